package io.switchboard.channel.email;

import io.switchboard.contract.OutboundCommand;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import jakarta.mail.internet.MimeUtility;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

import java.io.UnsupportedEncodingException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds a reply as a threaded email and sends it over SMTP. The SMTP reply code tells transient
 * failures (4xx, no connection) from permanent ones (5xx), whose text agents see.
 */
class EmailClient {

    /**
     * What one SMTP attempt came to.
     *
     * @param messageId our Message-ID, without brackets (set even on failure)
     * @param transientFailure worth retrying: a 4xx reply or no connection
     * @param reason the server's reply text for failures ("550 5.1.1 <x@y>: Recipient address rejected")
     */
    record Result(boolean ok, String messageId, boolean transientFailure, String reason) {
    }

    /** Sends one message; never throws. */
    Result send(EmailProperties.Account account, OutboundCommand command, Instant now) {
        String messageId = null;
        try {
            InternetAddress from = parseFrom(account.from());
            String domain = from.getAddress().contains("@") ? from.getAddress().substring(from.getAddress().indexOf('@') + 1)
                    : "switchboard.local";
            List<String> references = references(command);
            String answered = references.isEmpty() ? null : references.get(references.size() - 1);
            messageId = EmailIds.own(command.messageId(), answered, domain);
            List<File> files = new ArrayList<>();
            for (OutboundCommand.Attachment a : command.attachments()) {
                Fetched f = fetch(a);
                if (f.file() == null) {
                    return new Result(false, messageId, f.transientFailure(), f.reason());
                }
                files.add(f.file());
            }
            Session session = Session.getInstance(account.smtpSession());
            MimeMessage message = build(session, command, from, messageId, references, now, files);
            try (Transport transport = session.getTransport(account.smtpProtocol())) {
                transport.connect(EmailProperties.Account.user(account.smtpUrl()), EmailProperties.Account.password(account.smtpUrl()));
                transport.sendMessage(message, message.getAllRecipients());
            }
            return new Result(true, messageId, false, null);
        } catch (SMTPAddressFailedException e) {
            return failure(messageId, e.getReturnCode(), e.getMessage());
        } catch (SMTPSenderFailedException e) {
            return failure(messageId, e.getReturnCode(), e.getMessage());
        } catch (SMTPSendFailedException e) {
            // the recipients' own failures say more than the summary
            Exception next = e.getNextException();
            if (next instanceof SMTPAddressFailedException a) {
                return failure(messageId, a.getReturnCode(), a.getMessage());
            }
            return failure(messageId, e.getReturnCode(), e.getMessage());
        } catch (SendFailedException e) {
            Exception next = e.getNextException();
            if (next instanceof SMTPAddressFailedException a) {
                return failure(messageId, a.getReturnCode(), a.getMessage());
            }
            return new Result(false, messageId, false, "rejected: " + e.getMessage());
        } catch (jakarta.mail.AuthenticationFailedException e) {
            return new Result(false, messageId, false, "SMTP authentication failed: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            return new Result(false, messageId, false, e.getMessage());
        } catch (MessagingException e) {
            // no connection, timeouts, TLS problems: worth another try
            return new Result(false, messageId, true, "SMTP unavailable: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        } catch (RuntimeException e) {
            return new Result(false, messageId, true, "SMTP error: " + e.getClass().getSimpleName());
        }
    }

    private static Result failure(String messageId, int code, String text) {
        String reason = text == null ? "SMTP " + code : text.strip();
        if (!reason.startsWith(String.valueOf(code)) && code > 0) {
            reason = code + " " + reason;
        }
        return new Result(false, messageId, code >= 400 && code < 500, reason);
    }

    /** In-Reply-To and References of the thread, oldest first, without brackets. */
    static List<String> references(OutboundCommand command) {
        Set<String> refs = new LinkedHashSet<>();
        for (String r : command.references()) {
            if (r != null && !r.isBlank()) {
                refs.add(EmailIds.strip(r));
            }
        }
        if (command.inReplyTo() != null && !command.inReplyTo().isBlank()) {
            String irt = EmailIds.strip(command.inReplyTo());
            refs.remove(irt);
            refs.add(irt); // the message answered is the newest reference
        }
        return new ArrayList<>(refs);
    }

    /** An attachment's bytes, fetched from its URL. */
    record File(String name, String contentType, byte[] bytes) {
    }

    private record Fetched(File file, boolean transientFailure, String reason) {
    }

    /** Attachments larger than this are refused (most mail servers take 25 MB at most, base64 included). */
    static final long MAX_ATTACHMENT_BYTES = 18L * 1024 * 1024;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL).build();

    private Fetched fetch(OutboundCommand.Attachment a) {
        String name = a.name() == null || a.name().isBlank() ? "attachment" : a.name();
        URI url;
        try {
            url = a.url() == null ? null : URI.create(a.url());
        } catch (IllegalArgumentException e) {
            url = null;
        }
        if (url == null || url.getScheme() == null || !url.getScheme().toLowerCase(java.util.Locale.ROOT).startsWith("http")) {
            return new Fetched(null, false, "attachment " + name + " has no http(s) URL to fetch it from");
        }
        try {
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(60)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() >= 500) {
                return new Fetched(null, true, "attachment " + name + " could not be fetched: HTTP " + response.statusCode());
            }
            if (response.statusCode() >= 300) {
                return new Fetched(null, false, "attachment " + name + " could not be fetched: HTTP " + response.statusCode());
            }
            if (response.body().length > MAX_ATTACHMENT_BYTES) {
                return new Fetched(null, false, "attachment " + name + " is larger than " + MAX_ATTACHMENT_BYTES / (1024 * 1024) + " MB");
            }
            String type = a.contentType() != null && !a.contentType().isBlank() ? a.contentType()
                    : response.headers().firstValue("Content-Type").orElse("application/octet-stream");
            return new Fetched(new File(name, type, response.body()), false, null);
        } catch (java.io.IOException e) {
            return new Fetched(null, true, "attachment " + name + " could not be fetched: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Fetched(null, true, "interrupted while fetching attachment " + name);
        }
    }

    static MimeMessage build(Session session, OutboundCommand command, InternetAddress from, String messageId,
                             List<String> references, Instant now) throws MessagingException {
        return build(session, command, from, messageId, references, now, List.of());
    }

    static MimeMessage build(Session session, OutboundCommand command, InternetAddress from, String messageId,
                             List<String> references, Instant now, List<File> files) throws MessagingException {
        String to = command.recipient().get("email");
        if (to == null || to.isBlank()) {
            throw new IllegalArgumentException("no email address to reply to");
        }
        MimeMessage message = new OwnIdMessage(session, "<" + messageId + ">");
        message.setFrom(from);
        message.setRecipients(jakarta.mail.Message.RecipientType.TO, new Address[]{new InternetAddress(to, false)});
        message.setSubject(subject(command.subject()), "UTF-8");
        message.setSentDate(Date.from(now));
        if (!references.isEmpty()) {
            message.setHeader("In-Reply-To", "<" + references.get(references.size() - 1) + ">");
            message.setHeader("References", MimeUtility.fold(12, String.join(" ", references.stream().map(r -> "<" + r + ">").toList())));
        }
        String text = command.text() == null ? "" : command.text();
        if (files.isEmpty()) {
            message.setText(text, "UTF-8");
        } else {
            MimeMultipart mixed = new MimeMultipart("mixed");
            MimeBodyPart body = new MimeBodyPart();
            body.setText(text, "UTF-8");
            mixed.addBodyPart(body);
            for (File f : files) {
                MimeBodyPart part = new MimeBodyPart();
                part.setDataHandler(new jakarta.activation.DataHandler(new ByteArrayDataSource(f.bytes(), f.contentType())));
                part.setFileName(f.name()); // RFC 2231-encoded by Jakarta Mail when not ASCII
                part.setDisposition(jakarta.mail.Part.ATTACHMENT);
                mixed.addBodyPart(part);
            }
            message.setContent(mixed);
        }
        message.saveChanges();
        return message;
    }

    /** A subject that keeps the thread: "Re: " once in front of the conversation's subject. */
    static String subject(String subject) {
        if (subject == null || subject.isBlank()) {
            return "Re: your request";
        }
        String s = subject.strip();
        return s.regionMatches(true, 0, "Re:", 0, 3) ? s : "Re: " + s;
    }

    private static InternetAddress parseFrom(String from) throws MessagingException {
        if (from == null || from.isBlank()) {
            throw new IllegalArgumentException("EMAIL_FROM is not set for this account");
        }
        InternetAddress[] parsed = InternetAddress.parse(from, false);
        if (parsed.length == 0) {
            throw new IllegalArgumentException("EMAIL_FROM is not an address");
        }
        InternetAddress a = parsed[0];
        if (a.getPersonal() != null) {
            try {
                a.setPersonal(a.getPersonal(), "UTF-8");
            } catch (UnsupportedEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
        return a;
    }

    /** A message whose Message-ID is ours, not the one saveChanges() would invent. */
    private static final class OwnIdMessage extends MimeMessage {
        private final String id;

        OwnIdMessage(Session session, String id) {
            super(session);
            this.id = id;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", id);
        }
    }
}
