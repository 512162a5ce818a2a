package io.switchboard.router.vk;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
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
import java.util.Locale;
import java.util.Map;

/**
 * VK community events (Callback API and Bots Long Poll carry the same objects:
 * https://dev.vk.com/en/api/community-events/json-schema) into inbox changes.
 *
 * <p>Keys: dialogs are threads ({@code vk:<account>:peer:<peer_id>}); a message is
 * {@code vk:<account>:<peer_id>:<id>}, except in group chats (peer_id from 2000000000), where a
 * community sees {@code id} 0 and only {@code conversation_message_id} identifies the message:
 * {@code vk:<account>:<peer_id>:c<conversation_message_id>}. Wall comments are their own threads,
 * one per post and commenter: {@code vk:<account>:wall:<owner>_<post>:<from_id>}.
 */
public final class VkNormalizer implements Normalizer {

    static final long CHAT_PEER_BASE = 2_000_000_000L;

    @Override
    public Channel channel() {
        return Channel.VK;
    }

    @Override
    public List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException {
        JsonNode event;
        try {
            String text = envelope.payloadText();
            event = ContractJson.mapper().readTree(text.startsWith("\uFEFF") ? text.substring(1) : text);
        } catch (JacksonException e) {
            throw new MalformedEventException("VK event is not JSON");
        }
        if (event == null || !event.isObject() || !event.path("type").isString()) {
            throw new MalformedEventException("not a VK community event: no type");
        }
        String account = envelope.account();
        String type = event.path("type").asString();
        JsonNode object = event.path("object");
        return switch (type) {
            case "message_new" -> messageNew(account, object.path("message").isObject() ? object.path("message") : object);
            case "message_reply" -> echo(account, object);
            case "message_edit" -> edit(account, object);
            case "message_allow" -> reachable(object, true);
            case "message_deny" -> reachable(object, false);
            case "wall_reply_new" -> wallReply(account, object);
            case "wall_reply_edit" -> wallEdit(account, object);
            case "confirmation" -> List.of(new Ignored("VK confirmation request"));
            case "message_event" -> List.of(new Ignored("VK callback button press: keyboards are not used by the inbox"));
            case "message_typing_state" -> List.of(new Ignored("VK typing notification"));
            case "message_read" -> List.of(new Ignored("VK read notification of a community message"));
            case "group_join", "group_leave" -> List.of(new Ignored("VK community membership change"));
            default -> List.of(new Ignored("VK event type is not a customer message"));
        };
    }

    /** Group-chat messages are known by conversation_message_id, dialog messages by id. */
    @Override
    public String outboundMessageKey(String account, Map<String, String> recipient, String externalId) {
        if (recipient.containsKey("post_id") && !recipient.containsKey("peer_id")) {
            return "vk:" + account + ":wall:" + recipient.getOrDefault("wall_owner_id", "") + "_" + recipient.get("post_id")
                    + ":" + externalId;
        }
        return "vk:" + account + ":" + recipient.getOrDefault("peer_id", "?") + ":" + externalId;
    }

    private static String peerOf(JsonNode m) throws MalformedEventException {
        if (!m.path("peer_id").canConvertToLong()) {
            throw new MalformedEventException("VK message without peer_id");
        }
        return m.path("peer_id").asString();
    }

    /** The message's own id as the channel reports it: id in dialogs, "c" + conversation_message_id in group chats. */
    static String messageId(JsonNode m, String peer) throws MalformedEventException {
        boolean chat = Long.parseLong(peer) >= CHAT_PEER_BASE;
        if (chat || m.path("id").asLong(0) == 0) {
            if (!m.path("conversation_message_id").canConvertToLong()) {
                throw new MalformedEventException("VK chat message without conversation_message_id");
            }
            return "c" + m.path("conversation_message_id").asString();
        }
        return m.path("id").asString();
    }

    static String key(String account, String peer, String id) {
        return "vk:" + account + ":" + peer + ":" + id;
    }

    static Thread dialog(String account, String peer) {
        return Thread.chat("vk:" + account + ":peer:" + peer);
    }

    private List<DomainChange> messageNew(String account, JsonNode m) throws MalformedEventException {
        String peer = peerOf(m);
        if (!m.path("from_id").canConvertToLong()) {
            throw new MalformedEventException("VK message without from_id");
        }
        String id = messageId(m, peer);
        String text = m.path("text").asString("");
        List<Attachment> attachments = attachments(m.path("attachments"));
        if (m.path("geo").isObject()) {
            JsonNode c = m.path("geo").path("coordinates");
            text = (text.isEmpty() ? "" : text + "\n") + "Location: " + c.path("latitude").asString("") + ", " + c.path("longitude").asString("");
        }
        if (text.isBlank() && attachments.isEmpty()) {
            return List.of(new Ignored("VK message without text or attachments"));
        }
        // message_new is always the customer's; old versions set out=1 on it from the user's side, so out is not read here.
        String replyTo = null;
        JsonNode reply = m.path("reply_message");
        if (reply.isObject()) {
            replyTo = Long.parseLong(peer) >= CHAT_PEER_BASE || reply.path("id").asLong(0) == 0
                    ? (reply.path("conversation_message_id").canConvertToLong() ? "c" + reply.path("conversation_message_id").asString() : null)
                    : reply.path("id").asString();
        }
        return List.of(new CustomerMessage(key(account, peer, id), id, new Identity("vk", m.path("from_id").asString()), null,
                dialog(account, peer), Map.of("peer_id", peer), Instant.ofEpochSecond(m.path("date").asLong()), null,
                text.isBlank() ? null : text, attachments, replyTo, false, Map.of()));
    }

    /**
     * message_reply: a message of the community. One sent through the API carries our random_id:
     * our own sender's delivery report records it (and may not have arrived yet), so it is not
     * recorded twice; one typed by an admin in VK (random_id 0) becomes an outbound message.
     */
    private List<DomainChange> echo(String account, JsonNode m) throws MalformedEventException {
        String peer = peerOf(m);
        String id = messageId(m, peer);
        if (m.path("random_id").asLong(0) != 0) {
            return List.of(new Ignored("VK echo of a message sent through the API: recorded from its delivery report"));
        }
        return List.of(new OwnMessageEchoed(key(account, peer, id), id, dialog(account, peer), new Identity("vk", peer),
                Instant.ofEpochSecond(m.path("date").asLong()), m.path("text").asString(""), Map.of("peer_id", peer)));
    }

    private List<DomainChange> edit(String account, JsonNode m) throws MalformedEventException {
        String peer = peerOf(m);
        String id = messageId(m, peer);
        Instant at = Instant.ofEpochSecond(m.path("update_time").asLong(m.path("date").asLong()));
        return List.of(new MessageEdited(key(account, peer, id), m.path("text").asString(""), at));
    }

    private List<DomainChange> reachable(JsonNode object, boolean allowed) throws MalformedEventException {
        if (!object.path("user_id").canConvertToLong()) {
            throw new MalformedEventException("VK message_allow/deny without user_id");
        }
        return List.of(new ContactUpdate(new Identity("vk", object.path("user_id").asString()), null, allowed, List.of(), Map.of()));
    }

    private static String wallThread(String account, JsonNode c) {
        return "vk:" + account + ":wall:" + c.path("post_owner_id").asString("") + "_" + c.path("post_id").asString();
    }

    private List<DomainChange> wallReply(String account, JsonNode c) throws MalformedEventException {
        if (!c.path("id").canConvertToLong() || !c.path("post_id").canConvertToLong() || !c.path("from_id").canConvertToLong()) {
            throw new MalformedEventException("VK wall comment without id, post_id or from_id");
        }
        if (c.path("from_id").asLong() < 0) {
            return List.of(new Ignored("VK wall comment by a community"));
        }
        String owner = c.path("post_owner_id").asString("");
        String from = c.path("from_id").asString();
        String id = c.path("id").asString();
        List<Attachment> attachments = attachments(c.path("attachments"));
        String text = c.path("text").asString("");
        if (text.isBlank() && attachments.isEmpty()) {
            return List.of(new Ignored("VK wall comment without text or attachments"));
        }
        String thread = wallThread(account, c);
        Map<String, String> replyAddress = Map.of("wall_owner_id", owner, "post_id", c.path("post_id").asString(), "comment_id", id);
        return List.of(new CustomerMessage(thread + ":" + id, id, new Identity("vk", from), null,
                Thread.chat(thread + ":" + from), replyAddress, Instant.ofEpochSecond(c.path("date").asLong()),
                "Comment on wall post " + owner + "_" + c.path("post_id").asString(), text.isBlank() ? null : text,
                attachments, c.path("reply_to_comment").asString(null), false, Map.of()));
    }

    private List<DomainChange> wallEdit(String account, JsonNode c) throws MalformedEventException {
        if (!c.path("id").canConvertToLong() || !c.path("post_id").canConvertToLong()) {
            throw new MalformedEventException("VK wall comment edit without id or post_id");
        }
        return List.of(new MessageEdited(wallThread(account, c) + ":" + c.path("id").asString(), c.path("text").asString(""),
                Instant.ofEpochSecond(c.path("date").asLong())));
    }

    /** Attachments by type (https://dev.vk.com/en/reference/objects/attachments-message); files are fetched lazily by URL. */
    static List<Attachment> attachments(JsonNode list) {
        List<Attachment> out = new ArrayList<>();
        for (JsonNode a : list) {
            String type = a.path("type").asString("");
            JsonNode o = a.path(type);
            switch (type) {
                case "photo" -> out.add(new Attachment("photo.jpg", "image/jpeg", null, "photo", largest(o.path("sizes"), "url")));
                case "doc" -> {
                    String ext = o.path("ext").asString("");
                    String title = o.path("title").asString("document" + (ext.isEmpty() ? "" : "." + ext));
                    out.add(new Attachment(title, docType(ext), o.path("size").canConvertToLong() ? o.path("size").asLong() : null,
                            "doc", o.path("url").asString(null)));
                }
                case "audio_message" -> out.add(new Attachment("voice.ogg", "audio/ogg", null, "audio_message",
                        o.path("link_ogg").asString(o.path("link_mp3").asString(null))));
                case "sticker" -> out.add(new Attachment("sticker.png", "image/png", null, "sticker",
                        largest(o.path("images").isArray() ? o.path("images") : o.path("images_with_background"), "url")));
                case "link" -> out.add(new Attachment(o.path("title").asString(o.path("url").asString("link")), "text/uri-list", null,
                        "link", o.path("url").asString(null)));
                case "video" -> out.add(new Attachment(o.path("title").asString("video"), "video/mp4", null, "video",
                        "video" + o.path("owner_id").asString("") + "_" + o.path("id").asString("")));
                case "audio" -> out.add(new Attachment(o.path("artist").asString("") + " - " + o.path("title").asString(""),
                        "audio/mpeg", null, "audio", o.path("url").asString(null)));
                case "graffiti" -> out.add(new Attachment("graffiti.png", "image/png", null, "graffiti", o.path("url").asString(null)));
                default -> {
                    if (!type.isEmpty()) {
                        out.add(new Attachment(type, "application/octet-stream", null, type,
                                type + o.path("owner_id").asString("") + "_" + o.path("id").asString("")));
                    }
                }
            }
        }
        return out;
    }

    /** The largest of a list of sizes: by width x height, else the last one (VK lists sizes small to large). */
    static String largest(JsonNode sizes, String urlField) {
        JsonNode best = null;
        long bestArea = -1;
        for (JsonNode s : sizes) {
            long area = s.path("width").asLong(0) * s.path("height").asLong(0);
            if (best == null || area >= bestArea) {
                best = s;
                bestArea = area;
            }
        }
        return best == null ? null : best.path(urlField).asString(best.path("src").asString(null));
    }

    static String docType(String ext) {
        return switch (ext.toLowerCase(Locale.ROOT)) {
            case "pdf" -> "application/pdf";
            case "txt", "log" -> "text/plain";
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "gif" -> "image/gif";
            case "zip" -> "application/zip";
            case "doc" -> "application/msword";
            case "docx" -> "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
            case "xls" -> "application/vnd.ms-excel";
            case "xlsx" -> "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            case "json" -> "application/json";
            case "csv" -> "text/csv";
            default -> "application/octet-stream";
        };
    }
}
