package io.switchboard.channel.email;

import io.switchboard.contract.OutboundCommand;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

import java.io.UnsupportedEncodingException;
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
            Session session = Session.getInstance(account.smtpSession());
            MimeMessage message = build(session, command, from, messageId, references, now);
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

    static MimeMessage build(Session session, OutboundCommand command, InternetAddress from, String messageId,
                             List<String> references, Instant now) throws MessagingException {
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
        message.setText(command.text() == null ? "" : command.text(), "UTF-8");
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
