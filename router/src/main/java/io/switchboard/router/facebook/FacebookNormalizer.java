package io.switchboard.router.facebook;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.DeliveryReceipt;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
import io.switchboard.router.normalize.DomainChange.Thread;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.Normalizer;
import io.switchboard.store.Attachment;
import io.switchboard.store.Identity;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Messenger Platform webhook events (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events)
 * into inbox changes. The adapter publishes one item per envelope as a one-item page batch
 * ({@code {"object":"page","entry":[{"id":<page>,"messaging":[item]}]}}); a whole batch, a bare
 * entry or a bare messaging item are read too (replays, documentation samples).
 *
 * <p>Keys: message ids (mid) are unique across Messenger, so a message is {@code facebook:<account>:<mid>};
 * a conversation is the page and the customer's page-scoped id: {@code facebook:<account>:<page>:<psid>}.
 */
public final class FacebookNormalizer implements Normalizer {

    /** What our sender puts in message.metadata; Facebook echoes it back (see channel-social FacebookSender). */
    static final String OUR_METADATA_PREFIX = "switchboard:";

    @Override
    public Channel channel() {
        return Channel.FACEBOOK;
    }

    @Override
    public List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException {
        JsonNode root;
        try {
            root = ContractJson.mapper().readTree(envelope.payloadText());
        } catch (JacksonException e) {
            throw new MalformedEventException("Messenger event is not JSON");
        }
        if (root == null || !root.isObject()) {
            throw new MalformedEventException("Messenger event is not a JSON object");
        }
        List<DomainChange> changes = new ArrayList<>();
        if (root.has("entry")) {
            if (!"page".equals(root.path("object").asString(""))) {
                return List.of(new Ignored("Messenger webhook for another object than page"));
            }
            for (JsonNode entry : root.path("entry")) {
                entry(envelope.account(), entry, envelope.receivedAt(), changes);
            }
        } else if (root.has("messaging")) {
            entry(envelope.account(), root, envelope.receivedAt(), changes);
        } else if (root.has("sender") || root.has("recipient")) {
            item(envelope.account(), null, null, root, envelope.receivedAt(), changes);
        } else {
            throw new MalformedEventException("not a Messenger webhook event: no entry, messaging or sender");
        }
        return changes.isEmpty() ? List.of(new Ignored("Messenger batch without messaging items")) : changes;
    }

    private void entry(String account, JsonNode entry, Instant received, List<DomainChange> changes) throws MalformedEventException {
        String page = entry.path("id").isValueNode() ? entry.path("id").asString() : null;
        Instant time = entry.path("time").canConvertToLong() ? Instant.ofEpochMilli(entry.path("time").asLong()) : null;
        for (JsonNode item : entry.path("messaging")) {
            item(account, page, time, item, received, changes);
        }
    }

    /**
     * @param entryTime the entry's time, and failing that the time the adapter received it: the item's
     *                  own timestamp is missing from some events (old delivery receipts)
     */
    private void item(String account, String pageFromEntry, Instant entryTime, JsonNode item, Instant received,
                      List<DomainChange> changes) throws MalformedEventException {
        String sender = item.path("sender").path("id").asString("");
        String recipient = item.path("recipient").path("id").asString("");
        JsonNode message = item.path("message");
        boolean echo = message.path("is_echo").asBoolean(false);
        String page = pageFromEntry != null && !pageFromEntry.isEmpty() ? pageFromEntry : (echo ? sender : recipient);
        String psid = echo ? recipient : sender;
        if (psid.isEmpty()) {
            if (item.has("optin")) {
                changes.add(new Ignored("Messenger opt-in without a PSID (checkbox plugin user_ref)"));
                return;
            }
            throw new MalformedEventException("Messenger item without sender.id");
        }
        Identity customer = new Identity("facebook", psid);
        Thread thread = Thread.chat("facebook:" + account + ":" + page + ":" + psid);
        Instant at = item.path("timestamp").canConvertToLong() ? Instant.ofEpochMilli(item.path("timestamp").asLong())
                : entryTime != null ? entryTime : received;
        Map<String, String> replyAddress = Map.of("psid", psid, "page_id", page);

        if (message.isObject()) {
            String mid = message.path("mid").asString("");
            if (mid.isEmpty()) {
                throw new MalformedEventException("Messenger message without mid");
            }
            if (echo) {
                if (message.path("metadata").asString("").startsWith(OUR_METADATA_PREFIX)) {
                    changes.add(new Ignored("Messenger echo of our own send: recorded from its delivery report"));
                    return;
                }
                changes.add(new OwnMessageEchoed(key(account, mid), mid, thread, customer, at, text(message), replyAddress));
                return;
            }
            if (message.path("is_deleted").asBoolean(false)) {
                changes.add(new Ignored("Messenger message deleted"));
                return;
            }
            List<Attachment> attachments = attachments(message.path("attachments"));
            String text = text(message);
            if (text == null && attachments.isEmpty()) {
                changes.add(new Ignored("Messenger message without text or attachments"));
                return;
            }
            // quick_reply.payload is our own button's payload; the visible text is the button title, kept as text.
            changes.add(new CustomerMessage(key(account, mid), mid, customer, null, thread, replyAddress, at, null, text,
                    attachments, message.path("reply_to").path("mid").asString(null), false, Map.of()));
        } else if (item.has("postback")) {
            JsonNode p = item.path("postback");
            String mid = p.path("mid").asString("");
            String id = mid.isEmpty() ? "postback:" + psid + ":" + item.path("timestamp").asString("") : mid;
            String text = p.path("title").asString(p.path("payload").asString(""));
            changes.add(new CustomerMessage(key(account, id), mid.isEmpty() ? null : mid, customer, null, thread, replyAddress, at,
                    null, text.isBlank() ? "(button pressed)" : text, List.of(), null, false, Map.of()));
        } else if (item.has("delivery")) {
            receipts(account, customer, item.path("delivery"), "delivered", changes);
        } else if (item.has("read")) {
            receipts(account, customer, item.path("read"), "read", changes);
        } else if (item.has("optin")) {
            // The person agreed to be messaged (send-to-messenger plugin, notification opt-in): reachable.
            changes.add(new ContactUpdate(customer, null, true, List.of(), Map.of()));
        } else if (item.has("message_edit")) {
            JsonNode e = item.path("message_edit");
            changes.add(new MessageEdited(key(account, e.path("mid").asString("")), e.path("text").asString(""), at));
        } else if (item.has("reaction")) {
            changes.add(new Ignored("Messenger reaction"));
        } else if (item.has("referral")) {
            changes.add(new Ignored("Messenger referral"));
        } else {
            changes.add(new Ignored("Messenger event type is not a customer message"));
        }
    }

    /**
     * delivery and read: by mids where given, and by watermark for everything we sent to this person
     * up to it (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads).
     */
    private static void receipts(String account, Identity customer, JsonNode r, String status, List<DomainChange> changes)
            throws MalformedEventException {
        if (!r.path("watermark").canConvertToLong()) {
            throw new MalformedEventException("Messenger " + status + " receipt without watermark");
        }
        Instant watermark = Instant.ofEpochMilli(r.path("watermark").asLong());
        List<String> keys = new ArrayList<>();
        for (JsonNode mid : r.path("mids")) {
            keys.add(key(account, mid.asString()));
        }
        if (!keys.isEmpty()) {
            changes.add(new DeliveryReceipt(customer, keys, watermark, status, null));
        }
        changes.add(new DeliveryReceipt(customer, List.of(), watermark, status, null));
    }

    static String key(String account, String mid) {
        return "facebook:" + account + ":" + mid;
    }

    private static String text(JsonNode message) {
        String text = message.path("text").asString("");
        return text.isBlank() ? null : text;
    }

    /** https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages#attachment */
    static List<Attachment> attachments(JsonNode list) {
        List<Attachment> out = new ArrayList<>();
        for (JsonNode a : list) {
            String type = a.path("type").asString("");
            JsonNode p = a.path("payload");
            String url = p.path("url").asString(null);
            switch (type) {
                case "image" -> out.add(p.has("sticker_id")
                        ? new Attachment("sticker.png", "image/png", null, "sticker", url)
                        : new Attachment(name(url, "image.jpg"), "image/jpeg", null, "image", url));
                case "video" -> out.add(new Attachment(name(url, "video.mp4"), "video/mp4", null, "video", url));
                case "audio" -> out.add(new Attachment(name(url, "audio.mp4"), "audio/mp4", null, "audio", url));
                case "file" -> out.add(new Attachment(name(url, "file"), "application/octet-stream", null, "file", url));
                case "fallback" -> out.add(new Attachment(a.path("title").asString(url == null ? "link" : url), "text/uri-list",
                        null, "fallback", url != null ? url : a.path("url").asString(null)));
                case "location" -> out.add(new Attachment("location", "text/plain", null, "location",
                        p.path("coordinates").path("lat").asString("") + "," + p.path("coordinates").path("long").asString("")));
                // unknown types (reel, ig_reel, template, and the documentation's placeholder) keep their URL
                default -> out.add(new Attachment("attachment", "application/octet-stream", null, "attachment", url));
            }
        }
        return out;
    }

    /** The file name in a CDN URL's path, if it has one. */
    static String name(String url, String fallback) {
        if (url == null) {
            return fallback;
        }
        String path = url.replaceFirst("[?#].*$", "");
        int slash = path.lastIndexOf('/');
        String last = slash >= 0 ? path.substring(slash + 1) : "";
        return last.isBlank() || !last.contains(".") ? fallback : last;
    }
}
