package io.switchboard.router.email;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeTraversor;
import org.jsoup.select.NodeVisitor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Readable text out of email bodies: HTML to text with links kept, RFC 3676 format=flowed
 * unwrapped, and the visible part of a reply (quoted history and signature removed).
 */
final class EmailText {

    private static final Set<String> BLOCKS = Set.of("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
            "table", "tr", "blockquote", "pre", "section", "article", "header", "footer", "form", "hr", "dl", "dt",
            "dd", "address", "center", "tbody", "thead", "li", "body", "html");

    /** Elements that hold quoted history or signatures in the HTML of common mailers. */
    private static final String QUOTED_HTML = "blockquote[type=cite], div.gmail_quote, div.gmail_extra, "
            + "div.gmail_signature, [data-smartmail=gmail_signature], .moz-cite-prefix, .moz-signature, "
            + "div#divRplyFwdMsg, div#appendonsend, div.yahoo_quoted, blockquote.yandex_quote, div.OutlookMessageHeader";

    /**
     * @param stripQuoted drop quoted history and signature blocks the mailer marked up as such
     */
    static String htmlToText(String html, boolean stripQuoted) {
        Document doc = Jsoup.parse(html);
        doc.select("style, script, head, title, template").remove();
        if (stripQuoted) {
            doc.select(QUOTED_HTML).remove();
        }
        StringBuilder out = new StringBuilder();
        NodeTraversor.traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    if (inPre(t)) {
                        out.append(t.getWholeText());
                    } else {
                        String text = t.getWholeText().replace('\u00a0', ' ').replaceAll("\\s+", " ");
                        if (out.length() == 0 || out.charAt(out.length() - 1) == '\n') {
                            text = text.stripLeading();
                        }
                        out.append(text);
                    }
                } else if (node instanceof Element e) {
                    String tag = e.normalName();
                    if (tag.equals("br")) {
                        out.append('\n');
                    } else if (tag.equals("td") || tag.equals("th")) {
                        if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
                            out.append(' ');
                        }
                    } else if (BLOCKS.contains(tag)) {
                        newline(out);
                        if (tag.equals("li")) {
                            out.append("- ");
                        }
                    }
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e) {
                    String tag = e.normalName();
                    if (tag.equals("a")) {
                        String href = e.attr("href").trim();
                        String text = e.text().trim();
                        if (isLink(href) && !href.equals(text) && !href.equals("mailto:" + text)
                                && !text.equals(href.replaceFirst("^mailto:", ""))) {
                            out.append(" (").append(href).append(')');
                        }
                    } else if (BLOCKS.contains(tag)) {
                        newline(out);
                    }
                }
            }
        }, doc);
        return tidy(out.toString().replaceAll("[ \\t]{2,}", " "));
    }

    private static boolean inPre(TextNode t) {
        for (Element p = t.parent(); p != null; p = p.parent()) {
            if (p.normalName().equals("pre")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isLink(String href) {
        String h = href.toLowerCase(Locale.ROOT);
        return h.startsWith("http://") || h.startsWith("https://") || h.startsWith("mailto:") || h.startsWith("ftp://");
    }

    private static void newline(StringBuilder out) {
        if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
            out.append('\n');
        }
    }

    /** Trims every line, drops trailing blanks and collapses runs of blank lines to one. */
    static String tidy(String text) {
        String[] lines = text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1);
        StringBuilder out = new StringBuilder();
        int blanks = 0;
        for (String line : lines) {
            String l = line.stripTrailing();
            if (l.isBlank()) {
                blanks++;
                continue;
            }
            if (out.length() > 0) {
                out.append(blanks > 0 ? "\n\n" : "\n");
            }
            blanks = 0;
            out.append(l.strip().isEmpty() ? "" : stripLeadingSpaces(l));
        }
        return out.toString();
    }

    private static String stripLeadingSpaces(String l) {
        // keep indentation of quoted '>' lines and lists readable, but not HTML source indentation
        return l.strip();
    }

    /** RFC 3676: a line ending in a space continues on the next line (the "-- " signature line excepted). */
    static String unflow(String text, boolean delSp) {
        String[] lines = text.replace("\r\n", "\n").split("\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith(" ")) {
                line = line.substring(1); // space-stuffing
            }
            boolean soft = line.endsWith(" ") && !line.equals("-- ") && i + 1 < lines.length;
            if (soft) {
                out.append(delSp ? line.substring(0, line.length() - 1) : line);
            } else {
                out.append(line);
                if (i + 1 < lines.length) {
                    out.append('\n');
                }
            }
        }
        return out.toString();
    }

    private static final Pattern WROTE = Pattern.compile(
            "(?iu).*(wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|napisał|пишет|написал|написала|написал\\(а\\)|писал|писала)\\s*:\\s*$");
    private static final Pattern ON_START = Pattern.compile("(?iu)^(On|Am|Le|El|Il|Op|W dniu|В|\\d{1,2}[./]\\d{1,2}[./]\\d{2,4})\\b.*");
    private static final Pattern ORIGINAL = Pattern.compile(
            "(?iu)^[-_=\\s]*(-{2,}|_{2,})\\s*(Original Message|Исходное сообщение|Ursprüngliche Nachricht|Message d'origine)\\s*(-{2,}|_{2,})?.*$");
    private static final Pattern HEADER_FROM = Pattern.compile("(?iu)^\\*?(From|От|Von|De|Van)\\s*:\\*?\\s+.+");
    private static final Pattern HEADER_SENT = Pattern.compile(
            "(?iu)^\\*?(Sent|Date|Отправлено|Дата|Gesendet|Envoyé|Datum|To|Кому|Subject|Тема)\\s*:\\*?\\s*.*");
    private static final Pattern FORWARDED = Pattern.compile(
            "(?iu)^[-_=>\\s]*(-{2,}\\s*)?(Forwarded message|Begin forwarded message:?|Пересылаемое сообщение|Пересланное сообщение|"
                    + "Weitergeleitete Nachricht|Message transféré)\\s*(-{2,})?.*$");
    private static final Pattern MOBILE = Pattern.compile(
            "(?iu)^(Sent from my .*|Sent from Mail for Windows.*|Get Outlook for .*|Отправлено с .*|Отправлено из .*)$");

    /**
     * The part of a reply the customer wrote now: everything before the first quote header ("On
     * ... wrote:", "-----Original Message-----", an Outlook From:/Sent: block), a trailing block
     * of '>' lines, or the signature delimiter. If that leaves nothing, the whole text is kept.
     */
    static String visible(String full) {
        if (full == null) {
            return null;
        }
        List<String> lines = new ArrayList<>(List.of(full.replace("\r\n", "\n").split("\n", -1)));
        int cut = lines.size();
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            String line = raw.strip();
            if (FORWARDED.matcher(line).matches()) {
                break; // what follows was forwarded on purpose: it is part of what the customer sends us
            }
            if (raw.equals("-- ") || raw.equals("--") || raw.equals("—")) {
                cut = i;
                break;
            }
            if (ORIGINAL.matcher(line).matches()) {
                cut = i;
                break;
            }
            if (line.matches("_{20,}") && i + 1 < lines.size() && HEADER_FROM.matcher(nextNonBlank(lines, i + 1)).matches()) {
                cut = i;
                break;
            }
            if (HEADER_FROM.matcher(line).matches() && i > 0 && headerBlockFollows(lines, i + 1)) {
                cut = i;
                break;
            }
            if (isWroteLine(lines, i)) {
                cut = i;
                break;
            }
            if (line.startsWith(">") && onlyQuotedFrom(lines, i)) {
                cut = i;
                break;
            }
        }
        // A mobile client's footer at the very end is a signature too.
        int end = cut;
        while (end > 0 && lines.get(end - 1).isBlank()) {
            end--;
        }
        if (end > 0 && MOBILE.matcher(lines.get(end - 1).strip()).matches()) {
            end--;
        }
        String visible = tidy(String.join("\n", lines.subList(0, end)));
        return visible.isBlank() ? tidy(full) : visible;
    }

    private static boolean isWroteLine(List<String> lines, int i) {
        String line = lines.get(i).strip();
        String joined = i + 1 < lines.size() ? line + " " + lines.get(i + 1).strip() : line;
        boolean single = WROTE.matcher(line).matches() && looksLikeAttribution(line, lines, i + 1);
        boolean wrapped = !single && ON_START.matcher(line).matches() && WROTE.matcher(joined).matches()
                && !WROTE.matcher(line).matches() && looksLikeAttribution(joined, lines, i + 2);
        return single || wrapped;
    }

    /** "... wrote:" counts as a quote header if it names someone or a date, or quoted lines follow. */
    private static boolean looksLikeAttribution(String line, List<String> lines, int next) {
        return line.contains("@") || line.matches(".*\\d.*") || nextNonBlank(lines, next).startsWith(">");
    }

    private static boolean headerBlockFollows(List<String> lines, int from) {
        for (int j = from; j < Math.min(lines.size(), from + 4); j++) {
            if (HEADER_SENT.matcher(lines.get(j).strip()).matches()) {
                return true;
            }
        }
        return false;
    }

    private static boolean onlyQuotedFrom(List<String> lines, int i) {
        for (int j = i; j < lines.size(); j++) {
            String l = lines.get(j).strip();
            if (!l.isEmpty() && !l.startsWith(">")) {
                return false;
            }
        }
        return true;
    }

    private static String nextNonBlank(List<String> lines, int from) {
        for (int j = from; j < lines.size(); j++) {
            if (!lines.get(j).isBlank()) {
                return lines.get(j).strip();
            }
        }
        return "";
    }

    private EmailText() {
    }
}
