package io.switchboard.channel.webform;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a customer sent through the form or the JSON endpoint, and its validation. Error texts
 * are bilingual (Russian / English), like the form.
 *
 * @param honeypot the hidden field humans never see; anything in it marks a bot
 */
record ContactSubmission(String email, String name, String login, String project, String topic, String message,
                         String honeypot, List<Upload> uploads) {

    /** One attached file as received. */
    record Upload(String name, String contentType, byte[] bytes) {
    }

    /** Topics offered in the form: code, then the label (Russian / English). */
    static final Map<String, String> TOPICS = topics();

    static final int MAX_MESSAGE_CHARS = 20_000;
    static final int MAX_FIELD_CHARS = 200;
    private static final Pattern EMAIL = Pattern.compile("^[^@\\s<>\"]+@[^@\\s<>\"]+\\.[^@\\s<>\"]+$");

    ContactSubmission {
        email = trim(email);
        name = trim(name);
        login = trim(login);
        project = trim(project);
        topic = trim(topic);
        message = message == null ? "" : message.strip();
        honeypot = trim(honeypot);
        uploads = uploads == null ? List.of() : List.copyOf(uploads);
    }

    boolean isBot() {
        return !honeypot.isEmpty();
    }

    String topicOrDefault() {
        return topic.isEmpty() ? "other" : topic;
    }

    /** The subject agents see: the topic's label, or the topic as the app sent it. */
    String topicLabel() {
        return TOPICS.getOrDefault(topicOrDefault(), topicOrDefault());
    }

    /** Field name to a bilingual reason; empty when the submission is acceptable. */
    Map<String, String> errors(WebformProperties limits) {
        Map<String, String> errors = new LinkedHashMap<>();
        if (email.isEmpty()) {
            errors.put("email", "Укажите адрес электронной почты / Enter your email address");
        } else if (email.length() > 254 || !EMAIL.matcher(email).matches()) {
            errors.put("email", "Адрес почты выглядит неверно / This email address does not look valid");
        }
        for (String[] f : new String[][]{{"name", name}, {"login", login}, {"project", project}, {"topic", topic}}) {
            if (f[1].length() > MAX_FIELD_CHARS) {
                errors.put(f[0], "Не длиннее " + MAX_FIELD_CHARS + " символов / At most " + MAX_FIELD_CHARS + " characters");
            }
        }
        if (message.isEmpty()) {
            errors.put("message", "Опишите проблему / Describe the problem");
        } else if (message.length() > MAX_MESSAGE_CHARS) {
            errors.put("message", "Не длиннее " + MAX_MESSAGE_CHARS + " символов / At most " + MAX_MESSAGE_CHARS + " characters");
        }
        String files = fileProblem(limits);
        if (files != null) {
            errors.put("attachments", files);
        }
        return errors;
    }

    private String fileProblem(WebformProperties limits) {
        if (uploads.size() > limits.maxAttachments()) {
            return "Не больше " + limits.maxAttachments() + " файлов / At most " + limits.maxAttachments() + " files";
        }
        long total = 0;
        for (Upload u : uploads) {
            String ext = extension(u.name());
            if (!limits.allowedExtensions().contains(ext)) {
                return "Недопустимый тип файла «" + shortName(u.name()) + "»: можно " + String.join(", ", limits.allowedExtensions())
                        + " / File type not allowed: " + String.join(", ", limits.allowedExtensions());
            }
            if (!contentMatches(ext, u.bytes())) {
                return "Содержимое файла «" + shortName(u.name()) + "» не соответствует типу / The file's content does not match its type";
            }
            if (u.bytes().length > limits.maxFileBytes()) {
                return "Файл «" + shortName(u.name()) + "» больше " + mib(limits.maxFileBytes()) + " МБ / A file is larger than "
                        + mib(limits.maxFileBytes()) + " MB";
            }
            total += u.bytes().length;
        }
        if (total > limits.maxTotalBytes()) {
            return "Файлы вместе больше " + mib(limits.maxTotalBytes()) + " МБ / Files together exceed " + mib(limits.maxTotalBytes()) + " MB";
        }
        return null;
    }

    static String extension(String name) {
        int dot = name == null ? -1 : name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** The media type stored with the file, from its (allowed) extension: browsers' guesses vary. */
    static String contentTypeOf(String name) {
        return switch (extension(name)) {
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "gif" -> "image/gif";
            case "webp" -> "image/webp";
            case "pdf" -> "application/pdf";
            case "txt", "log" -> "text/plain";
            default -> "application/octet-stream";
        };
    }

    /** Signatures of the binary types, so a renamed executable is not stored as a screenshot. */
    static boolean contentMatches(String ext, byte[] b) {
        return switch (ext) {
            case "png" -> starts(b, 0x89, 'P', 'N', 'G');
            case "jpg", "jpeg" -> starts(b, 0xFF, 0xD8, 0xFF);
            case "gif" -> starts(b, 'G', 'I', 'F', '8');
            case "webp" -> starts(b, 'R', 'I', 'F', 'F') && b.length > 11 && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P';
            case "pdf" -> starts(b, '%', 'P', 'D', 'F');
            default -> true;
        };
    }

    private static boolean starts(byte[] b, int... prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** A file name without any path a browser may send, and without control characters. */
    static String cleanFileName(String name) {
        if (name == null) {
            return "file";
        }
        String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        base = base.replaceAll("[\\p{Cntrl}]", "").strip();
        return base.isEmpty() ? "file" : base.length() > 200 ? base.substring(base.length() - 200) : base;
    }

    private static String shortName(String name) {
        String n = cleanFileName(name);
        return n.length() > 40 ? n.substring(0, 40) + "…" : n;
    }

    private static String mib(long bytes) {
        return String.valueOf(bytes / (1024 * 1024));
    }

    private static String trim(String s) {
        return s == null ? "" : s.strip();
    }

    private static Map<String, String> topics() {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("account", "Аккаунт и вход / Account and sign-in");
        t.put("billing", "Оплата и баланс / Billing and balance");
        t.put("quota", "Квоты и лимиты / Quotas and limits");
        t.put("technical", "Техническая проблема / Technical problem");
        t.put("other", "Другое / Other");
        return java.util.Collections.unmodifiableMap(t);
    }

    @Override
    public String toString() {
        return "ContactSubmission[uploads=" + uploads.size() + "]";
    }
}
