package io.switchboard.channel.webform;

import java.util.Map;

/**
 * The form's HTML: plain server-rendered pages that work without JavaScript, with bilingual
 * labels (Russian / English), labels tied to inputs, errors announced (role=alert) and linked
 * from a summary, and a honeypot field hidden from people and screen readers.
 */
final class WebformPages {

    static String form(ContactSubmission values, Map<String, String> errors, boolean embed, WebformProperties limits, String notice) {
        StringBuilder h = new StringBuilder(8192);
        head(h, "Написать в поддержку / Contact support", embed);
        h.append("<main>\n<h1>Написать в поддержку <span lang=\"en\">/ Contact support</span></h1>\n");
        if (notice != null) {
            h.append("<div class=\"summary\" role=\"alert\"><p>").append(esc(notice)).append("</p></div>\n");
        }
        if (!errors.isEmpty()) {
            h.append("<div class=\"summary\" role=\"alert\" tabindex=\"-1\" id=\"error-summary\">\n")
                    .append("<h2>Проверьте форму <span lang=\"en\">/ Please correct the form</span></h2>\n<ul>\n");
            errors.forEach((field, reason) -> h.append("<li><a href=\"#").append(field).append("\">").append(esc(reason))
                    .append("</a></li>\n"));
            h.append("</ul>\n");
            if (!values.uploads().isEmpty() || errors.containsKey("attachments")) {
                h.append("<p>Файлы нужно прикрепить заново <span lang=\"en\">/ Please attach the files again</span></p>\n");
            }
            h.append("</div>\n");
        }
        h.append("<form method=\"post\" action=\"/contact").append(embed ? "?embed=1" : "")
                .append("\" enctype=\"multipart/form-data\" accept-charset=\"UTF-8\">\n");
        input(h, "email", "email", "Электронная почта", "Email", values.email(), errors, true, "email", null);
        input(h, "name", "text", "Имя", "Name", values.name(), errors, false, "name", null);
        input(h, "login", "text", "Логин аккаунта", "Account login", values.login(), errors, false, "username",
                "Логин, под которым вы входите в панель / The login you use for the control panel");
        input(h, "project", "text", "Название проекта", "Project name", values.project(), errors, false, "off", null);
        // topic
        h.append("<div class=\"field").append(errors.containsKey("topic") ? " invalid" : "").append("\">\n")
                .append("<label for=\"topic\">Тема <span lang=\"en\">/ Topic</span></label>\n");
        error(h, "topic", errors);
        h.append("<select id=\"topic\" name=\"topic\"").append(describedBy("topic", errors, false)).append(">\n");
        String selected = values.topicOrDefault();
        ContactSubmission.TOPICS.forEach((code, label) -> h.append("<option value=\"").append(code).append('"')
                .append(code.equals(selected) ? " selected" : "").append('>').append(esc(label)).append("</option>\n"));
        h.append("</select>\n</div>\n");
        // message
        h.append("<div class=\"field").append(errors.containsKey("message") ? " invalid" : "").append("\">\n")
                .append("<label for=\"message\">Подробное описание <span lang=\"en\">/ Description</span> <span class=\"req\">*</span></label>\n")
                .append("<p class=\"hint\" id=\"message-hint\">Что произошло, когда, что вы уже пробовали / What happened, when, what you tried</p>\n");
        error(h, "message", errors);
        h.append("<textarea id=\"message\" name=\"message\" rows=\"8\" required maxlength=\"").append(ContactSubmission.MAX_MESSAGE_CHARS)
                .append('"').append(describedBy("message", errors, true)).append(errors.containsKey("message") ? " aria-invalid=\"true\"" : "")
                .append('>').append(esc(values.message())).append("</textarea>\n</div>\n");
        // attachments
        String accept = String.join(",", limits.allowedExtensions().stream().map(e -> "." + e).toList());
        h.append("<div class=\"field").append(errors.containsKey("attachments") ? " invalid" : "").append("\">\n")
                .append("<label for=\"attachments\">Файлы: скриншоты, логи, PDF <span lang=\"en\">/ Files: screenshots, logs, PDF</span></label>\n")
                .append("<p class=\"hint\" id=\"attachments-hint\">До ").append(limits.maxAttachments()).append(" файлов, каждый до ")
                .append(limits.maxFileBytes() >> 20).append(" МБ, вместе до ").append(limits.maxTotalBytes() >> 20).append(" МБ (")
                .append(esc(accept)).append(") / Up to ").append(limits.maxAttachments()).append(" files, ")
                .append(limits.maxFileBytes() >> 20).append(" MB each, ").append(limits.maxTotalBytes() >> 20).append(" MB in total</p>\n");
        error(h, "attachments", errors);
        h.append("<input type=\"file\" id=\"attachments\" name=\"attachments\" multiple accept=\"").append(esc(accept)).append('"')
                .append(describedBy("attachments", errors, true)).append(errors.containsKey("attachments") ? " aria-invalid=\"true\"" : "")
                .append(">\n</div>\n");
        // honeypot: off-screen, skipped by keyboard and screen readers; people leave it empty
        h.append("<div class=\"hp\" aria-hidden=\"true\"><label for=\"website\">Не заполняйте это поле / Leave this field empty</label>")
                .append("<input type=\"text\" id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\" value=\"\"></div>\n");
        if (embed) {
            h.append("<input type=\"hidden\" name=\"embed\" value=\"1\">\n");
        }
        h.append("<p class=\"hint\">* обязательные поля <span lang=\"en\">/ required fields</span></p>\n")
                .append("<button type=\"submit\">Отправить <span lang=\"en\">/ Send</span></button>\n</form>\n</main>\n");
        return h.append("</body>\n</html>\n").toString();
    }

    static String thanks(String submissionId, boolean embed) {
        StringBuilder h = new StringBuilder(2048);
        head(h, "Спасибо / Thank you", embed);
        h.append("<main>\n<h1>Спасибо! <span lang=\"en\">/ Thank you!</span></h1>\n")
                .append("<p role=\"status\">Обращение принято, мы ответим на указанную почту. <span lang=\"en\">We have your request and will answer by email.</span></p>\n");
        if (submissionId != null && submissionId.matches("[0-9a-f-]{36}")) {
            h.append("<p>Номер обращения <span lang=\"en\">/ Reference</span>: <code>").append(submissionId, 0, 8).append("</code></p>\n");
        }
        h.append("<p><a href=\"/contact").append(embed ? "/embed" : "").append("\">Написать ещё <span lang=\"en\">/ Send another</span></a></p>\n")
                .append("</main>\n</body>\n</html>\n");
        return h.toString();
    }

    /** A script other sites include where the form should appear; it inserts the embeddable page in an iframe. */
    static String embedScript() {
        return """
                /* Switchboard contact form: <script src="https://YOUR-HOST/contact/embed.js" async></script> */
                (function () {
                  var s = document.currentScript;
                  if (!s) { return; }
                  var f = document.createElement('iframe');
                  f.src = new URL('/contact/embed', s.src).href;
                  f.title = 'Написать в поддержку / Contact support';
                  f.style.cssText = 'width:100%;min-height:900px;border:0';
                  f.setAttribute('loading', 'lazy');
                  s.parentNode.insertBefore(f, s);
                })();
                """;
    }

    private static void head(StringBuilder h, String title, boolean embed) {
        h.append("<!DOCTYPE html>\n<html lang=\"ru\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>").append(esc(title)).append("</title>\n")
                .append("<style>\n")
                .append("body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:").append(embed ? "0.5rem" : "2rem 1rem").append(";color:#1b1b1b;background:#fff}\n")
                .append("main{max-width:40rem;margin:0 auto}h1{font-size:1.5rem}label{display:block;font-weight:600;margin-bottom:.25rem}\n")
                .append(".field{margin-bottom:1rem}input[type=text],input[type=email],select,textarea{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #555;border-radius:4px}\n")
                .append(".hint{color:#444;font-size:.9rem;margin:.1rem 0 .3rem}.req{color:#a00}.error{color:#a00;font-weight:600;margin:.1rem 0 .3rem}\n")
                .append(".invalid input,.invalid textarea,.invalid select{border:2px solid #a00}.summary{border:3px solid #a00;padding:.5rem 1rem;margin-bottom:1rem}\n")
                .append("button{font:inherit;padding:.6rem 1.4rem;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}\n")
                .append("button:focus,a:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f9a825;outline-offset:2px}\n")
                .append(".hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}\n")
                .append("</style>\n</head>\n<body>\n");
    }

    private static void input(StringBuilder h, String id, String type, String ru, String en, String value, Map<String, String> errors,
                              boolean required, String autocomplete, String hint) {
        boolean invalid = errors.containsKey(id);
        h.append("<div class=\"field").append(invalid ? " invalid" : "").append("\">\n<label for=\"").append(id).append("\">")
                .append(esc(ru)).append(" <span lang=\"en\">/ ").append(esc(en)).append("</span>")
                .append(required ? " <span class=\"req\">*</span>" : "").append("</label>\n");
        if (hint != null) {
            h.append("<p class=\"hint\" id=\"").append(id).append("-hint\">").append(esc(hint)).append("</p>\n");
        }
        error(h, id, errors);
        h.append("<input type=\"").append(type).append("\" id=\"").append(id).append("\" name=\"").append(id)
                .append("\" value=\"").append(esc(value)).append("\" maxlength=\"").append(id.equals("email") ? 254 : ContactSubmission.MAX_FIELD_CHARS)
                .append("\" autocomplete=\"").append(autocomplete).append('"').append(required ? " required" : "")
                .append(invalid ? " aria-invalid=\"true\"" : "").append(describedBy(id, errors, hint != null)).append(">\n</div>\n");
    }

    private static void error(StringBuilder h, String id, Map<String, String> errors) {
        if (errors.containsKey(id)) {
            h.append("<p class=\"error\" id=\"").append(id).append("-error\">").append(esc(errors.get(id))).append("</p>\n");
        }
    }

    private static String describedBy(String id, Map<String, String> errors, boolean hint) {
        String ids = ((hint ? id + "-hint " : "") + (errors.containsKey(id) ? id + "-error" : "")).trim();
        return ids.isEmpty() ? "" : " aria-describedby=\"" + ids + "\"";
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private WebformPages() {
    }
}
