package io.switchboard.router.email;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.DeliveryReceipt;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
import io.switchboard.router.normalize.DomainChange.Thread;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.Normalizer;
import io.switchboard.store.Attachment;
import io.switchboard.store.Identity;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MailDateFormat;
import jakarta.mail.internet.MimeMessage;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Raw RFC 822 messages (https://www.rfc-editor.org/rfc/rfc5322) from the email adapter into inbox
 * changes: a customer message, our own message coming back (echo), or a bounce that marks one of
 * our replies failed.
 *
 * <p>Keys: a Message-ID is global, so the message key is {@code email:<account>:<Message-ID>}
 * (without angle brackets), the thread key of a message is the same string, and its lookup keys
 * are the ids in In-Reply-To and References (any match joins that conversation). Our replies carry
 * a reply token in their own Message-ID (see {@link #replyToken}), so a reply that quotes only our
 * Message-ID still finds its conversation. A message without Message-ID gets one derived from its
 * bytes, so a redelivered copy is still recognised.
 *
 * <p>The visible text is the new part of the message: quoted history and signatures are removed.
 * The full original stays available as the raw event on the inbound topic (and in the mailbox,
 * which the adapter never deletes from); see docs/adr/0100-email-ingest.md.
 */
public final class EmailNormalizer implements Normalizer {

    /** Prefix of the local part of Message-IDs our adapter generates: {@code <sb.<messageId>[.<token>]@domain>}. */
    public static final String OWN_PREFIX = "sb.";

    private static final Session SESSION;
    private static final System.Logger LOG = System.getLogger(EmailNormalizer.class.getName());

    static {
        Properties p = new Properties();
        p.setProperty("mail.mime.allowutf8", "true");
        p.setProperty("mail.mime.address.strict", "false");
        p.setProperty("mail.mime.multipart.ignoremissingendboundary", "true");
        p.setProperty("mail.mime.multipart.ignoremissingboundaryparameter", "true");
        p.setProperty("mail.mime.multipart.allowempty", "true");
        SESSION = Session.getInstance(p);
    }

    private static final Pattern ANGLE_ID = Pattern.compile("<([^<>\\s]+)>");
    private static final Pattern SMTP_REPLY = Pattern.compile("\\b([245]\\d\\d)[ -]+([245]\\.\\d{1,3}\\.\\d{1,3})\\b");
    private static final Pattern STATUS_ONLY = Pattern.compile("\\b([245]\\.\\d{1,3}\\.\\d{1,3})\\b");
    private static final Pattern REPLY_AT_END = Pattern.compile("\\b([45]\\d\\d)\\s*$");
    private static final Pattern STATUS_AT_START = Pattern.compile("^\\s*[45]\\.\\d{1,3}\\.\\d{1,3}\\b");
    private static final Pattern EMBEDDED_MESSAGE_ID = Pattern.compile("(?im)^Message-I[Dd]:\\s*(<[^<>\\s]+>)");
    private static final Set<String> DAEMONS = Set.of("mailer-daemon", "postmaster", "mail-daemon", "maildaemon",
            "mailerdaemon", "bounce", "bounces");
    /**
     * Subjects vacation responders write: the phrase followed by a colon ("Automatic reply: ...", Exchange's
     * form; "Автоответ: ...") or standing alone ("Out of Office"). A customer's own subject may well start
     * with the words ("Out of office hours support?", "Вне офиса не работает VPN"): without the colon they
     * are not taken as an auto-reply, since a false positive silently stops that customer's SLA clock while
     * a missed vacation notice only costs an agent a glance. The headers catch nearly every real responder.
     */
    private static final Pattern AUTO_SUBJECT = Pattern.compile(
            "(?iu)^(automatic reply|auto reply|autoreply|auto-reply|out of (the )?office|abwesenheitsnotiz|réponse automatique"
                    + "|автоответ|автоматический ответ|вне офиса|отсутствую)\\s*(:.*|[.!]?)$");

    @Override
    public Channel channel() {
        return Channel.EMAIL;
    }

    @Override
    public List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException {
        byte[] raw;
        try {
            raw = envelope.payloadBytes();
        } catch (IllegalArgumentException e) {
            throw new MalformedEventException("email payload is not valid base64");
        }
        if (raw.length == 0 || !looksLikeMessage(raw)) {
            throw new MalformedEventException("email payload is not an RFC 822 message");
        }
        MimeMessage message;
        try {
            message = parse(raw);
        } catch (MessagingException e) {
            throw new MalformedEventException("email headers unreadable: " + e.getClass().getSimpleName());
        }
        String account = envelope.account();
        MimeContent content = MimeContent.of(message);
        // What was wrong with the original and how it was read anyway: logged, and stored on the message so
        // that agents know why a date, a sender or a part looks odd. The reasons name header fields and MIME
        // structure only, never addresses or text.
        Set<String> warnings = new LinkedHashSet<>(content.warnings);
        Instant sentAt = sentAt(message, envelope.receivedAt(), warnings);
        String ownId = messageId(message, raw);
        if (ids(header(message, "Message-ID")).isEmpty()) {
            warnings.add("no Message-ID: an id derived from the bytes is used, replies to it cannot be threaded");
        }
        String key = key(account, ownId);

        List<DomainChange> bounce = bounce(account, message, content, sentAt);
        if (bounce != null) {
            return bounce;
        }

        Thread thread = new Thread(key, lookupKeys(account, message, ownId), null);
        String subject = header(message, "Subject");
        Address from = from(message);
        if (from.unknown) {
            warnings.add("no sender address: shown as unknown sender, a reply has nowhere to go");
        } else if (address(message, "From") == null) {
            warnings.add("no usable From: the sender is taken from Sender, Reply-To or Return-Path");
        }
        if (!warnings.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "email event {0}: read with warnings: {1}", envelope.eventId(),
                    String.join("; ", warnings));
        }
        String fullText = content.fullText();
        String text = EmailText.visible(content.textWithoutQuotedHtml().isBlank() ? fullText : content.textWithoutQuotedHtml());
        if ((text == null || text.isBlank()) && !content.forwarded.isEmpty()) {
            text = forwardedText(content.forwarded.get(0));
        }
        text = text == null || text.isBlank() ? null : text;

        // Ours: a Message-ID we generated, or the adapter saw the support address itself as the sender.
        if (ownId.startsWith(OWN_PREFIX) || "true".equals(envelope.externalIds().get("fromSupport"))) {
            Address to = firstRecipient(message);
            return List.of(new OwnMessageEchoed(key, ownId, thread,
                    new Identity("email", to == null ? from.email : to.email), sentAt, shown(text)));
        }

        List<Attachment> attachments = new ArrayList<>();
        Map<String, byte[]> contents = new LinkedHashMap<>();
        for (int i = 0; i < content.files.size(); i++) {
            MimeContent.File f = content.files.get(i);
            String ref = attachmentRef(key, i);
            attachments.add(new Attachment(f.name(), f.contentType(), (long) f.bytes().length, f.kind(), ref));
            contents.put(ref, f.bytes());
        }
        Address replyTo = replyTo(message);
        Map<String, String> replyAddress = new LinkedHashMap<>();
        if (!from.unknown || replyTo != null) {
            replyAddress.put("email", replyTo != null ? replyTo.email : from.email);
        }
        List<String> inReplyTo = ids(header(message, "In-Reply-To"));
        return List.of(new CustomerMessage(key, ownId, new Identity("email", from.email),
                // without a display name the address is the best name agents get
                from.name != null ? from.name : from.email, thread,
                replyAddress, sentAt, subject == null || subject.isBlank() ? null : subject.strip(), shown(text),
                attachments, inReplyTo.isEmpty() ? null : inReplyTo.get(0), automatic(message, from, subject),
                Map.of(), contents, meta(warnings, fullText, text)));
    }

    /** The text agents open with "show quoted text" (ADR 0101): at most this many characters are kept on the message. */
    static final int FULL_TEXT_MAX = 64 * 1024;

    /**
     * At most this many characters of visible text are kept on the message: far more than anyone writes,
     * and it keeps a mail whose body is a pasted log or a data dump (up to the adapter's limit, and past it
     * by reference, ADR 0102) from filling a transcript page, whose document MongoDB limits to 16 MB
     * (ADR 0151). The whole mail stays in the mailbox.
     */
    static final int TEXT_MAX = 256 * 1024;

    static String shown(String text) {
        return cut(text, TEXT_MAX);
    }

    /** The first {@code max} chars of a text, never half a character, and how many characters were left out. */
    static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int at = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, at) + "\n[… " + text.codePointCount(at, text.length()) + " more characters in the original]";
    }

    /**
     * What the message carries beside its visible text: the warnings of a broken message, and the whole
     * body as written (quoted history and signature included) when the visible text left some of it out.
     */
    private static Map<String, String> meta(java.util.Collection<String> warnings, String fullText, String visible) {
        Map<String, String> meta = new java.util.LinkedHashMap<>();
        if (!warnings.isEmpty()) {
            meta.put("warnings", String.join("; ", warnings));
        }
        String whole = fullText == null ? "" : fullText.strip();
        if (!whole.isEmpty() && !whole.equals(visible == null ? "" : visible.strip())) {
            meta.put("fullText", cut(whole, FULL_TEXT_MAX));
        }
        return meta;
    }

    /** Our Message-IDs name the message key of the sent email; bounces and echoes find it by the id. */
    @Override
    public String outboundMessageKey(String account, Map<String, String> recipient, String externalId) {
        return key(account, stripAngles(externalId));
    }

    static String key(String account, String messageId) {
        return "email:" + account + ":" + messageId;
    }

    /**
     * The reply token our adapter puts into the Message-ID of a reply: the id of the customer's
     * message it answers, base64url-encoded. {@code sb.<messageId>.<token>@domain}.
     */
    public static String replyToken(String answeredMessageId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(stripAngles(answeredMessageId).getBytes(StandardCharsets.UTF_8));
    }

    /** The customer message id carried by one of our Message-IDs, if it carries one. */
    static String answeredBy(String ownMessageId) {
        if (!ownMessageId.startsWith(OWN_PREFIX)) {
            return null;
        }
        int at = ownMessageId.lastIndexOf('@');
        String local = at < 0 ? ownMessageId : ownMessageId.substring(0, at);
        int dot = local.lastIndexOf('.');
        if (dot <= OWN_PREFIX.length()) {
            return null;
        }
        try {
            String id = new String(Base64.getUrlDecoder().decode(local.substring(dot + 1)), StandardCharsets.UTF_8);
            return id.contains("@") ? id : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static MimeMessage parse(byte[] raw) throws MessagingException {
        return new MimeMessage(SESSION, new ByteArrayInputStream(raw));
    }

    private static boolean looksLikeMessage(byte[] raw) {
        // The first line must be a header field ("Name: value") or a From_ line of an mbox.
        int end = 0;
        while (end < raw.length && end < 2000 && raw[end] != '\n') {
            end++;
        }
        String first = new String(raw, 0, end, StandardCharsets.ISO_8859_1);
        return first.matches("^[A-Za-z0-9][A-Za-z0-9_-]*\\s*:.*\\r?$") || first.startsWith("From ");
    }

    // ---------------------------------------------------------------- headers

    static String header(MimeMessage m, String name) {
        try {
            String value = m.getHeader(name, null);
            return value == null ? null : EncodedWords.decode(value).strip();
        } catch (MessagingException e) {
            return null;
        }
    }

    private static String messageId(MimeMessage m, byte[] raw) {
        List<String> ids = ids(header(m, "Message-ID"));
        if (!ids.isEmpty()) {
            return ids.get(0);
        }
        // No Message-ID: one derived from the bytes keeps redeliveries idempotent.
        return sha256(raw).substring(0, 32) + "@switchboard.invalid";
    }

    /** Message ids in a header: the bracketed ones, or bare tokens when a mailer left the brackets out. */
    static List<String> ids(String header) {
        Set<String> out = new LinkedHashSet<>();
        if (header == null || header.isBlank()) {
            return List.of();
        }
        Matcher m = ANGLE_ID.matcher(header);
        while (m.find()) {
            out.add(m.group(1));
        }
        if (out.isEmpty()) {
            for (String token : header.split("[\\s,]+")) {
                if (token.contains("@")) {
                    out.add(stripAngles(token));
                }
            }
        }
        return List.copyOf(out);
    }

    static String stripAngles(String id) {
        String s = id.strip();
        if (s.startsWith("<") && s.endsWith(">")) {
            s = s.substring(1, s.length() - 1).strip();
        }
        return s;
    }

    /** In-Reply-To first, then References newest first; each of our own ids followed by the id it answered. */
    private static List<String> lookupKeys(String account, MimeMessage m, String ownId) {
        List<String> refs = new ArrayList<>(ids(header(m, "References")));
        java.util.Collections.reverse(refs);
        Set<String> ordered = new LinkedHashSet<>(ids(header(m, "In-Reply-To")));
        ordered.addAll(refs);
        Set<String> keys = new LinkedHashSet<>();
        for (String id : ordered) {
            if (id.equals(ownId)) {
                continue;
            }
            keys.add(key(account, id));
            String answered = answeredBy(id);
            if (answered != null) {
                keys.add(key(account, answered));
            }
        }
        return List.copyOf(keys);
    }

    private static Instant sentAt(MimeMessage m, Instant receivedAt, Set<String> warnings) {
        String date = header(m, "Date");
        if (date == null || date.isBlank()) {
            warnings.add("no Date: the arrival time is shown");
            return receivedAt;
        }
        try {
            java.util.Date d = new MailDateFormat().parse(date);
            if (d == null) {
                warnings.add("unreadable Date: the arrival time is shown");
                return receivedAt;
            }
            Instant t = d.toInstant();
            // A date in the future (year 3609) or before e-mail existed is a broken clock: use arrival.
            if (t.isAfter(receivedAt.plus(Duration.ofDays(1))) || t.isBefore(Instant.parse("1971-01-01T00:00:00Z"))) {
                warnings.add("Date " + (t.isAfter(receivedAt) ? "in the future" : "before 1971") + " ("
                        + t.atOffset(java.time.ZoneOffset.UTC).getYear() + "): the arrival time is shown");
                return receivedAt;
            }
            return t;
        } catch (ParseException | RuntimeException e) {
            warnings.add("unreadable Date: the arrival time is shown");
            return receivedAt;
        }
    }

    /** A parsed address: lower-case email and decoded display name. */
    record Address(String email, String name, boolean unknown) {
    }

    private static Address from(MimeMessage m) {
        for (String h : List.of("From", "Sender", "Reply-To", "Return-Path")) {
            Address a = address(m, h);
            if (a != null) {
                return a;
            }
        }
        return new Address("unknown-sender@switchboard.invalid", "Unknown sender", true);
    }

    private static Address replyTo(MimeMessage m) {
        return address(m, "Reply-To");
    }

    private static Address firstRecipient(MimeMessage m) {
        return address(m, "To");
    }

    static Address address(MimeMessage m, String headerName) {
        String value;
        try {
            value = m.getHeader(headerName, ",");
        } catch (MessagingException e) {
            return null;
        }
        if (value == null || value.isBlank()) {
            return null;
        }
        value = EncodedWords.recover8bit(value.replaceAll("\\r?\\n[ \\t]*", " "));
        try {
            for (InternetAddress a : InternetAddress.parseHeader(value, false)) {
                String email = a.getAddress();
                if (email != null && email.contains("@") && !email.isBlank()) {
                    String name = a.getPersonal();
                    name = name == null ? null : EncodedWords.decode(name).strip();
                    return new Address(email.strip().toLowerCase(Locale.ROOT), name == null || name.isEmpty() ? null : name, false);
                }
            }
        } catch (jakarta.mail.internet.AddressException | RuntimeException e) {
            // fall through to a plain search
        }
        Matcher any = Pattern.compile("[^\\s<>\"(),;:]+@[^\\s<>\"(),;:]+").matcher(value);
        return any.find() ? new Address(any.group().toLowerCase(Locale.ROOT), null, false) : null;
    }

    // ---------------------------------------------------------------- auto-replies

    /**
     * RFC 3834 Auto-Submitted (https://www.rfc-editor.org/rfc/rfc3834#section-5), the de-facto
     * X-Autoreply / X-Autorespond, Precedence bulk/junk/auto_reply, Exchange's inbox-rule loop header,
     * Apple's vacation action, a null return path, mailer daemons, and the subjects vacation responders use.
     *
     * <p>Not evidence on their own: {@code X-Auto-Response-Suppress} asks the recipient not to answer
     * automatically (Outlook, ticket systems and mass mailers put it on ordinary, human-written mail too;
     * Exchange's own auto-replies carry the rules-loop header and a null return path as well), and
     * {@code Precedence: list} marks mailing-list traffic, which people write.
     */
    static boolean automatic(MimeMessage m, Address from, String subject) {
        String autoSubmitted = header(m, "Auto-Submitted");
        if (autoSubmitted != null && !autoSubmitted.isBlank() && !autoSubmitted.toLowerCase(Locale.ROOT).startsWith("no")) {
            return true;
        }
        for (String h : List.of("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder",
                "X-MS-Exchange-Inbox-Rules-Loop")) {
            String v = header(m, h);
            if (v != null && !v.isBlank() && !v.equalsIgnoreCase("no") && !v.equalsIgnoreCase("false")) {
                return true;
            }
        }
        String precedence = header(m, "Precedence");
        if (precedence != null && precedence.toLowerCase(Locale.ROOT).matches("\\s*(bulk|junk|auto_reply|auto-reply)\\s*")) {
            return true;
        }
        String apple = header(m, "X-Apple-Action");
        if (apple != null && apple.toUpperCase(Locale.ROOT).contains("VACATION")) {
            return true;
        }
        String returnPath = header(m, "Return-Path");
        if (returnPath != null && returnPath.replaceAll("\\s", "").equals("<>")) {
            return true;
        }
        String local = from.email.contains("@") ? from.email.substring(0, from.email.indexOf('@')) : from.email;
        if (DAEMONS.contains(local)) {
            return true;
        }
        return subject != null && AUTO_SUBJECT.matcher(subject.strip()).matches();
    }

    // ---------------------------------------------------------------- bounces

    /**
     * A delivery failure report: RFC 3464 multipart/report with message/delivery-status, or the
     * plain-text forms of Exim and the Russian providers (X-Failed-Recipients, mailer-daemon
     * sender, the original quoted below a separator). Null if the message is not a bounce.
     */
    private static List<DomainChange> bounce(String account, MimeMessage m, MimeContent content, Instant at) {
        String reportType = null;
        try {
            jakarta.mail.internet.ContentType ct = MimeContent.contentType(m);
            reportType = ct == null ? null : ct.getParameter("report-type");
        } catch (RuntimeException e) {
            // not a report
        }
        boolean dsn = content.report && (reportType == null || reportType.toLowerCase(Locale.ROOT).contains("delivery-status"));
        Address from = from(m);
        String local = from.email.contains("@") ? from.email.substring(0, from.email.indexOf('@')) : "";
        boolean failedRecipients = header(m, "X-Failed-Recipients") != null;
        boolean daemon = DAEMONS.contains(local);
        if (!dsn && !failedRecipients && !(daemon && content.deliveryStatus != null)) {
            if (!daemon) {
                return null;
            }
            // A daemon's plain-text notice counts only if it quotes the original message.
            if (originalIdFromText(content.fullText()) == null && content.forwarded.isEmpty()) {
                return null;
            }
        }
        if (content.deliveryStatus != null && !content.deliveryStatus.isBlank()) {
            String action = dsnField(content.deliveryStatus, "Action");
            if (action != null && !action.toLowerCase(Locale.ROOT).startsWith("failed")) {
                return List.of(new Ignored("delivery status notification: " + action.toLowerCase(Locale.ROOT)));
            }
        }
        String original = null;
        if (!content.forwarded.isEmpty()) {
            List<String> ids = ids(header(content.forwarded.get(0), "Message-ID"));
            original = ids.isEmpty() ? null : ids.get(0);
        }
        if (original == null && content.originalHeaders != null) {
            try {
                InternetHeaders h = new InternetHeaders(new ByteArrayInputStream(content.originalHeaders.getBytes(StandardCharsets.UTF_8)));
                List<String> ids = ids(h.getHeader("Message-ID", null));
                original = ids.isEmpty() ? null : ids.get(0);
            } catch (MessagingException e) {
                original = null;
            }
            if (original == null) {
                original = originalIdFromText(content.originalHeaders);
            }
        }
        if (original == null) {
            original = originalIdFromText(content.fullText());
        }
        if (original == null) {
            return List.of(new Ignored("bounce without the original Message-ID"));
        }
        String reason = diagnostic(content);
        Address recipient = null;
        String finalRecipient = content.deliveryStatus == null ? null : dsnField(content.deliveryStatus, "Final-Recipient");
        if (finalRecipient != null) {
            String addr = finalRecipient.contains(";") ? finalRecipient.substring(finalRecipient.indexOf(';') + 1) : finalRecipient;
            if (addr.contains("@")) {
                recipient = new Address(addr.strip().toLowerCase(Locale.ROOT), null, false);
            }
        }
        if (recipient == null) {
            String failed = header(m, "X-Failed-Recipients");
            if (failed != null && failed.contains("@")) {
                recipient = new Address(failed.split(",")[0].strip().toLowerCase(Locale.ROOT), null, false);
            }
        }
        return List.of(new DeliveryReceipt(recipient == null ? null : new Identity("email", recipient.email),
                List.of(key(account, original)), at, "failed", reason));
    }

    private static String originalIdFromText(String text) {
        if (text == null) {
            return null;
        }
        Matcher id = EMBEDDED_MESSAGE_ID.matcher(text);
        return id.find() ? stripAngles(id.group(1)) : null;
    }

    /** The first occurrence of a field in a delivery-status body (unfolded). */
    static String dsnField(String status, String field) {
        String unfolded = status.replace("\r\n", "\n").replaceAll("\n[ \\t]+", " ");
        Matcher m = Pattern.compile("(?im)^" + Pattern.quote(field) + "\\s*:\\s*(.+)$").matcher(unfolded);
        return m.find() ? m.group(1).strip() : null;
    }

    /**
     * What agents see as the reason: the DSN Diagnostic-Code without its "smtp;" type, prefixed
     * with the Status code when it carries none; else the SMTP reply quoted in the notice text
     * ("550 5.1.1 ... User Unknown"); else the Status with its comment.
     */
    static String diagnostic(MimeContent content) {
        String status = content.deliveryStatus == null ? null : dsnField(content.deliveryStatus, "Status");
        String diag = content.deliveryStatus == null ? null : dsnField(content.deliveryStatus, "Diagnostic-Code");
        if (diag != null && !diag.isBlank()) {
            diag = diag.replaceFirst("(?i)^(smtp|x-[\\w-]+)\\s*;\\s*", "").replaceAll("\\s+", " ").strip();
            if (!SMTP_REPLY.matcher(diag).find() && !STATUS_ONLY.matcher(diag).find() && status != null) {
                Matcher s = STATUS_ONLY.matcher(status);
                if (s.find()) {
                    diag = s.group(1) + " " + diag;
                }
            }
            return shorten(diag);
        }
        String text = content.fullText();
        String fromText = replyInText(text);
        if (fromText != null) {
            return shorten(fromText);
        }
        if (status != null) {
            return shorten(status);
        }
        return "delivery failed (no diagnostic in the bounce)";
    }

    /** "550 5.1.1 ..." in a notice, with its wrapped continuation lines, up to the next blank line. */
    private static String replyInText(String text) {
        String[] lines = text.replace("\r\n", "\n").split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher m = SMTP_REPLY.matcher(lines[i]);
            int start;
            if (m.find()) {
                start = m.start();
            } else {
                // "said: 550" at a line end with the enhanced status on the next line (Postfix wraps there)
                Matcher bare = REPLY_AT_END.matcher(lines[i]);
                if (!bare.find() || i + 1 >= lines.length || !STATUS_AT_START.matcher(lines[i + 1]).find()) {
                    continue;
                }
                start = bare.start(1);
            }
            StringBuilder sb = new StringBuilder(lines[i].substring(start).strip());
            for (int j = i + 1; j < lines.length && !lines[j].isBlank(); j++) {
                sb.append(' ').append(lines[j].strip());
            }
            return sb.toString().replaceAll("\\s+", " ").strip();
        }
        return null;
    }

    private static String shorten(String s) {
        return s.length() <= 500 ? s : s.substring(0, 499) + "…";
    }

    // ---------------------------------------------------------------- text

    private static String forwardedText(MimeMessage inner) {
        MimeContent c = MimeContent.of(inner);
        String subject = header(inner, "Subject");
        String body = c.fullText();
        return ("Forwarded message" + (subject == null || subject.isBlank() ? "" : ": " + subject.strip())
                + (body.isBlank() ? "" : "\n\n" + body)).strip();
    }

    static String attachmentRef(String messageKey, int index) {
        return "email-" + sha256((messageKey + ":" + index).getBytes(StandardCharsets.UTF_8)).substring(0, 40);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
