package io.switchboard.router.email;

import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.ContentDisposition;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.util.ByteArrayDataSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Walks a parsed MIME tree once and collects what the inbox needs: the body text (the best
 * alternative of each multipart/alternative), attachments with decoded names, and the parts of a
 * delivery report. Every part is read defensively: a part that cannot be decoded becomes text or
 * an attachment of its raw bytes, never an error for the whole message.
 */
final class MimeContent {

    /** One file found in the message. */
    record File(String name, String contentType, byte[] bytes, String kind) {
    }

    final List<String> texts = new ArrayList<>();
    final List<String> quoteStrippedHtml = new ArrayList<>();
    final List<File> files = new ArrayList<>();
    final List<MimeMessage> forwarded = new ArrayList<>();
    String deliveryStatus;
    String originalHeaders;
    boolean report;
    final List<String> warnings = new ArrayList<>();

    static MimeContent of(Part root) {
        MimeContent c = new MimeContent();
        c.walk(root, 0);
        return c;
    }

    /** The full body text (all inline text parts in order). */
    String fullText() {
        return EmailText.tidy(String.join("\n\n", texts));
    }

    /** The body text without quoted HTML blocks (text parts are the same as {@link #fullText()}). */
    String textWithoutQuotedHtml() {
        return EmailText.tidy(String.join("\n\n", quoteStrippedHtml));
    }

    private void walk(Part part, int depth) {
        if (depth > 20) {
            warnings.add("MIME nesting deeper than 20 levels");
            return;
        }
        String type = baseType(part);
        try {
            if (type.startsWith("multipart/")) {
                multipart(part, type, depth);
            } else if (type.equals("message/rfc822") || type.equals("message/global")) {
                messagePart(part);
            } else if (type.equals("message/delivery-status") || type.equals("message/global-delivery-status")) {
                deliveryStatus = new String(bytes(part), StandardCharsets.UTF_8);
            } else if (type.equals("text/rfc822-headers") || type.equals("message/rfc822-headers")) {
                originalHeaders = new String(bytes(part), StandardCharsets.UTF_8);
            } else if ((type.equals("text/plain") || type.equals("text/html") || type.equals("text/enriched"))
                    && !isAttachment(part)) {
                text(part, type);
            } else {
                file(part, type);
            }
        } catch (MessagingException | IOException | RuntimeException e) {
            warnings.add("part " + type + " unreadable: " + e.getClass().getSimpleName());
            fallbackText(part);
        }
    }

    private void multipart(Part part, String type, int depth) throws MessagingException, IOException {
        Multipart mp;
        String header = ((MimePart) part).getHeader("Content-Type", null);
        String rawBoundary = header == null ? null : rawParameter(header, "boundary");
        ContentType parsed = contentType(part);
        if (rawBoundary != null && (parsed == null || !rawBoundary.equals(parsed.getParameter("boundary")))) {
            // An unquoted boundary with MIME specials in it ("----=_NextPart_...") parses short: use it whole.
            warnings.add("unquoted boundary with special characters");
            mp = new MimeMultipart(new ByteArrayDataSource(rawBytes(part), type + "; boundary=\"" + rawBoundary + "\""));
        } else {
            Object content = part.getContent();
            if (!(content instanceof Multipart m)) {
                fallbackText(part);
                return;
            }
            mp = m;
        }
        int count;
        try {
            count = mp.getCount();
        } catch (MessagingException e) {
            // No boundary found at all (a declared boundary that never appears): the body is text.
            warnings.add("multipart without its boundary: read as text");
            fallbackText(part);
            return;
        }
        if (mp instanceof MimeMultipart mm && !mm.isComplete()) {
            // read up to the end of the message all the same (mail.mime.multipart.ignoremissingendboundary)
            warnings.add("multipart without its closing boundary: read to the end of the message");
        }
        if (type.equals("multipart/report")) {
            report = true;
        }
        if (type.equals("multipart/alternative")) {
            alternative(mp, count, depth);
            return;
        }
        for (int i = 0; i < count; i++) {
            BodyPart child = mp.getBodyPart(i);
            if (isEmptyTrailingPart(child, i, count)) {
                continue;
            }
            walk(child, depth + 1);
        }
    }

    /** The last alternative the mailer could produce that we can read: plain text wins over HTML. */
    private void alternative(Multipart mp, int count, int depth) throws MessagingException {
        List<MimeContent> options = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MimeContent option = new MimeContent();
            option.walk(mp.getBodyPart(i), depth + 1);
            options.add(option);
        }
        MimeContent best = null;
        for (MimeContent o : options) {
            if (!o.fullText().isBlank() && o.plain) {
                best = o;
                break;
            }
        }
        if (best == null) {
            for (MimeContent o : options) {
                if (!o.fullText().isBlank()) {
                    best = o;
                }
            }
        }
        if (best != null) {
            texts.addAll(best.texts);
            quoteStrippedHtml.addAll(best.quoteStrippedHtml);
        }
        for (MimeContent o : options) {
            files.addAll(o.files);
            forwarded.addAll(o.forwarded);
            warnings.addAll(o.warnings);
        }
    }

    private boolean plain;

    private void text(Part part, String type) throws MessagingException, IOException {
        String text = decodeText(part);
        if (type.equals("text/html")) {
            texts.add(EmailText.htmlToText(text, false));
            quoteStrippedHtml.add(EmailText.htmlToText(text, true));
        } else {
            ContentType ct = contentType(part);
            if (ct != null && "flowed".equalsIgnoreCase(ct.getParameter("format"))) {
                text = EmailText.unflow(text, "yes".equalsIgnoreCase(ct.getParameter("delsp")));
            }
            plain = true;
            texts.add(text);
            quoteStrippedHtml.add(text);
        }
    }

    private void messagePart(Part part) throws MessagingException, IOException {
        byte[] raw = bytes(part);
        MimeMessage inner = EmailNormalizer.parse(raw);
        forwarded.add(inner);
        String name = fileName(part);
        if (name == null) {
            String subject = EncodedWords.decode(inner.getHeader("Subject", null));
            name = (subject == null || subject.isBlank() ? "message" : subject.strip()) + ".eml";
        }
        files.add(new File(name, "message/rfc822", raw, "message"));
    }

    private void file(Part part, String type) throws MessagingException, IOException {
        byte[] bytes = bytes(part);
        String name = fileName(part);
        boolean inline = part.getHeader("Content-ID") != null && !isAttachment(part);
        if (name == null) {
            name = (inline ? "inline" : "attachment") + "-" + (files.size() + 1) + extension(type);
        }
        files.add(new File(name, type, bytes, inline ? "inline" : "file"));
    }

    private void fallbackText(Part part) {
        try {
            String raw = decode(rawBytes(part), charsetOf(part));
            // Drop MIME scaffolding (boundary lines, part headers) so what is left reads as the message.
            StringBuilder out = new StringBuilder();
            boolean inHeaders = false;
            for (String line : raw.replace("\r\n", "\n").split("\n", -1)) {
                if (line.startsWith("--") && line.length() > 2 && !line.equals("-- ") && !line.contains(" ")) {
                    inHeaders = true;
                    continue;
                }
                if (inHeaders) {
                    if (line.isBlank()) {
                        inHeaders = false;
                    }
                    continue;
                }
                out.append(line).append('\n');
            }
            String text = out.toString();
            if (text.contains("<") && text.toLowerCase(Locale.ROOT).matches("(?s).*<(html|body|p|div|br)[\\s>/].*")) {
                text = EmailText.htmlToText(text, false);
            }
            texts.add(text);
            quoteStrippedHtml.add(text);
        } catch (MessagingException | IOException | RuntimeException e) {
            warnings.add("part unreadable even as raw text");
        }
    }

    /** A closing delimiter written without its trailing "--" leaves an empty last part behind. */
    private static boolean isEmptyTrailingPart(BodyPart child, int index, int count) {
        if (index != count - 1 || index == 0) {
            return false;
        }
        try {
            return child.getSize() <= 2 && child.getHeader("Content-Type") == null
                    && (child.getAllHeaders() == null || !child.getAllHeaders().hasMoreElements());
        } catch (MessagingException e) {
            return false;
        }
    }

    static String decodeText(Part part) throws MessagingException, IOException {
        return decode(bytes(part), charsetOf(part));
    }

    /**
     * Bytes in their declared charset. Undeclared or plain US-ASCII bytes that are valid UTF-8 are
     * read as UTF-8; otherwise as windows-1251, the commonest legacy charset of this product's mail.
     */
    static String decode(byte[] bytes, String declared) {
        Charset cs = EncodedWords.charset(declared, null);
        boolean ascii = cs == null || cs.name().equalsIgnoreCase("US-ASCII");
        if (ascii) {
            String utf8 = EncodedWords.strictUtf8(bytes);
            return utf8 != null ? utf8 : new String(bytes, Charset.forName("windows-1251"));
        }
        return new String(bytes, cs);
    }

    static byte[] bytes(Part part) throws MessagingException, IOException {
        try (InputStream in = part.getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException | MessagingException e) {
            // Broken base64/QP or an unknown transfer encoding: the raw bytes beat nothing.
            if (part instanceof MimeBodyPart b) {
                try (InputStream raw = b.getRawInputStream()) {
                    return raw.readAllBytes();
                }
            }
            throw e;
        }
    }

    private static byte[] rawBytes(Part part) throws MessagingException, IOException {
        InputStream in = part instanceof MimeBodyPart b ? b.getRawInputStream()
                : part instanceof MimeMessage m ? m.getRawInputStream() : part.getInputStream();
        try (in) {
            return in.readAllBytes();
        }
    }

    static String baseType(Part part) {
        try {
            String header = part instanceof MimePart mp ? mp.getHeader("Content-Type", null) : null;
            if (header == null) {
                return "text/plain";
            }
            return new ContentType(header).getBaseType().toLowerCase(Locale.ROOT);
        } catch (MessagingException | RuntimeException e) {
            try {
                String header = ((MimePart) part).getHeader("Content-Type", null);
                String base = header.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
                return base.contains("/") ? base : "application/octet-stream";
            } catch (MessagingException | RuntimeException e2) {
                return "application/octet-stream";
            }
        }
    }

    static ContentType contentType(Part part) {
        try {
            String header = part instanceof MimePart mp ? mp.getHeader("Content-Type", null) : null;
            return header == null ? null : new ContentType(header);
        } catch (MessagingException | RuntimeException e) {
            return null;
        }
    }

    private static String charsetOf(Part part) {
        ContentType ct = contentType(part);
        if (ct != null) {
            return ct.getParameter("charset");
        }
        try {
            String header = ((MimePart) part).getHeader("Content-Type", null);
            return header == null ? null : rawParameter(header, "charset");
        } catch (MessagingException | RuntimeException e) {
            return null;
        }
    }

    static boolean isAttachment(Part part) {
        try {
            String header = part instanceof MimePart mp ? mp.getHeader("Content-Disposition", null) : null;
            return header != null && header.strip().toLowerCase(Locale.ROOT).startsWith("attachment");
        } catch (MessagingException e) {
            return false;
        }
    }

    /**
     * The file name from Content-Disposition filename or Content-Type name: RFC 2231 parameters
     * (decoded by the parser), RFC 2047 words inside them (not standard, but what Outlook and
     * Thunderbird send), and unquoted or broken values read straight from the header.
     */
    static String fileName(Part part) {
        try {
            MimePart p = (MimePart) part;
            String disposition = p.getHeader("Content-Disposition", null);
            String type = p.getHeader("Content-Type", null);
            String name = parameter(disposition, "filename", true);
            if (name == null) {
                name = parameter(type, "name", false);
            }
            if (name == null) {
                return null;
            }
            name = EncodedWords.decode(name).strip();
            return name.isEmpty() ? null : name;
        } catch (MessagingException | RuntimeException e) {
            return null;
        }
    }

    private static String parameter(String header, String name, boolean disposition) {
        if (header == null) {
            return null;
        }
        String value = null;
        try {
            value = disposition ? new ContentDisposition(header).getParameter(name) : new ContentType(header).getParameter(name);
        } catch (MessagingException | RuntimeException e) {
            // fall through to the raw reading below
        }
        if (value == null || value.isBlank() || (value.startsWith("=") && !value.startsWith("=?"))) {
            value = rawParameter(header, name);
        }
        return value;
    }

    private static String rawParameter(String header, String name) {
        Matcher m = Pattern.compile("(?i)(?:^|;)\\s*" + Pattern.quote(name) + "\\s*=\\s*(\"([^\"]*)\"|[^;]+)")
                .matcher(header.replaceAll("\\r?\\n[ \\t]*", " "));
        if (!m.find()) {
            return null;
        }
        return (m.group(2) != null ? m.group(2) : m.group(1)).strip();
    }

    private static String extension(String type) {
        return switch (type) {
            case "image/png" -> ".png";
            case "image/jpeg" -> ".jpg";
            case "image/gif" -> ".gif";
            case "application/pdf" -> ".pdf";
            case "text/plain" -> ".txt";
            case "text/html" -> ".html";
            default -> ".bin";
        };
    }
}
