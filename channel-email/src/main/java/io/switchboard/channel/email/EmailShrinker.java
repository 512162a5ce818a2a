package io.switchboard.channel.email;

import jakarta.mail.BodyPart;
import jakarta.mail.Header;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * The reduced form of a message too large for a Kafka record: the original headers (so sender,
 * subject and threading are intact), its plain-text parts up to 512 KB, and a notice naming every
 * attachment left out with its size. The original stays untouched in the mailbox; the header
 * {@code X-Switchboard-Reduced} says where. Nothing is dropped silently.
 */
final class EmailShrinker {

    static final int MAX_TEXT_CHARS = 512 * 1024;
    private static final Session SESSION = Session.getInstance(new Properties());

    static byte[] reduce(byte[] raw, String folder, long uid) {
        try {
            MimeMessage original = new MimeMessage(SESSION, new ByteArrayInputStream(raw));
            StringBuilder text = new StringBuilder();
            List<String> omitted = new ArrayList<>();
            collect(original, text, omitted, 0);
            MimeMessage reduced = new KeepIdMessage(SESSION);
            Enumeration<Header> headers = original.getAllHeaders();
            while (headers.hasMoreElements()) {
                Header h = headers.nextElement();
                String lower = h.getName().toLowerCase(Locale.ROOT);
                if (!lower.startsWith("content-") && !lower.equals("mime-version")) {
                    reduced.addHeader(h.getName(), h.getValue());
                }
            }
            StringBuilder body = new StringBuilder();
            body.append("[This message (").append(raw.length).append(" bytes) was too large for the inbox. ");
            body.append(omitted.isEmpty() ? "Its text was shortened." : "These attachments were left out:");
            for (String o : omitted) {
                body.append("\n- ").append(o);
            }
            body.append("\nThe complete original is kept in the mailbox folder ").append(folder).append(", UID ").append(uid).append(".]\n\n");
            body.append(text.length() > MAX_TEXT_CHARS ? text.substring(0, MAX_TEXT_CHARS) + "\n[...]" : text);
            reduced.setText(body.toString(), "UTF-8");
            reduced.setHeader("X-Switchboard-Reduced", raw.length + " bytes; folder " + folder + "; uid " + uid);
            reduced.saveChanges();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            reduced.writeTo(out);
            return out.toByteArray();
        } catch (MessagingException | IOException e) {
            // Unparseable and huge: keep the head of the raw bytes, which holds the headers.
            int keep = (int) Math.min(raw.length, 1024 * 1024);
            byte[] head = new byte[keep];
            System.arraycopy(raw, 0, head, 0, keep);
            return head;
        }
    }

    private static void collect(Part part, StringBuilder text, List<String> omitted, int depth)
            throws MessagingException, IOException {
        if (depth > 20) {
            return;
        }
        if (part.isMimeType("multipart/*")) {
            Object content = part.getContent();
            if (content instanceof Multipart mp) {
                for (int i = 0; i < mp.getCount(); i++) {
                    BodyPart child = mp.getBodyPart(i);
                    collect(child, text, omitted, depth + 1);
                }
            }
            return;
        }
        boolean attachment = Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition()) || part.getFileName() != null;
        if (part.isMimeType("text/plain") && !attachment && text.length() < MAX_TEXT_CHARS) {
            Object content = part.getContent();
            if (content instanceof String s) {
                text.append(s).append('\n');
            }
            return;
        }
        String name = part.getFileName() == null ? "(unnamed " + part.getContentType().split(";")[0] + ")" : part.getFileName();
        omitted.add(name + ", " + Math.max(0, part.getSize()) + " bytes encoded");
    }

    /** Keeps the original Message-ID: saveChanges() would otherwise make a new one and break threading. */
    private static final class KeepIdMessage extends MimeMessage {
        KeepIdMessage(Session session) {
            super(session);
        }

        @Override
        protected void updateMessageID() {
            // the Message-ID header was copied from the original
        }
    }

    private EmailShrinker() {
    }
}
