package io.switchboard.channel.email;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Message-ID handling shared by ingest and sending. Our own Message-IDs have the form
 * {@code <sb.<messageId>[.<token>]@<domain of EMAIL_FROM>>}: {@code sb.} marks them as ours (the
 * router turns them into echoes), {@code messageId} is our outbound message id (so a resent
 * command gets the same id), and the token is the customer's Message-ID this reply answers,
 * base64url-encoded, so a customer reply that quotes only our id still finds its conversation.
 * The router's EmailNormalizer reads the same format (docs/channels/email.md).
 */
final class EmailIds {

    static final String OWN_PREFIX = "sb.";
    private static final Pattern ANGLE_ID = Pattern.compile("<([^<>\\s]+)>");

    static String strip(String id) {
        String s = id.strip();
        Matcher m = ANGLE_ID.matcher(s);
        if (m.find()) {
            return m.group(1);
        }
        return s;
    }

    static String first(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        Matcher m = ANGLE_ID.matcher(header);
        if (m.find()) {
            return m.group(1);
        }
        String token = header.strip().split("[\\s,]+")[0];
        return token.contains("@") ? token : null;
    }

    /** Our Message-ID (without brackets) for an outbound message answering {@code answered} (may be null). */
    static String own(String messageId, String answered, String domain) {
        String safeId = messageId.replaceAll("[^A-Za-z0-9-]", "");
        if (safeId.isEmpty()) {
            safeId = UUID.nameUUIDFromBytes(messageId.getBytes(StandardCharsets.UTF_8)).toString();
        }
        String token = answered == null || answered.isBlank() ? ""
                : "." + Base64.getUrlEncoder().withoutPadding().encodeToString(strip(answered).getBytes(StandardCharsets.UTF_8));
        return OWN_PREFIX + safeId + token + "@" + domain;
    }

    /** The customer Message-ID carried in one of our ids, or null. */
    static String answered(String ownId) {
        if (ownId == null || !ownId.startsWith(OWN_PREFIX)) {
            return null;
        }
        int at = ownId.lastIndexOf('@');
        String local = at < 0 ? ownId : ownId.substring(0, at);
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

    /**
     * The id that names a thread for Kafka partitioning: the oldest reference, else the message
     * answered, else the message itself; one of our ids stands for the customer message it answered.
     */
    static String threadRoot(String references, String inReplyTo, String messageId, String fallback) {
        String root = first(references);
        if (root == null) {
            root = first(inReplyTo);
        }
        if (root == null && messageId != null) {
            root = strip(messageId);
        }
        if (root == null) {
            return fallback;
        }
        String answered = answered(root);
        return answered != null ? answered : root;
    }

    private EmailIds() {
    }
}
