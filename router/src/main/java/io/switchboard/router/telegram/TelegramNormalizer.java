package io.switchboard.router.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.TelegramFiles;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
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
 * Telegram Bot API {@code Update} objects (https://core.telegram.org/bots/api#update) into inbox changes.
 *
 * <p>Keys: a Telegram message id is unique only within its chat, so the message key is
 * {@code telegram:<account>:<chat id>:<message id>}; the conversation thread is the chat.
 */
public final class TelegramNormalizer implements Normalizer {

    @Override
    public Channel channel() {
        return Channel.TELEGRAM;
    }

    @Override
    public List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException {
        if (TelegramFiles.CONTENT_TYPE.equals(envelope.contentType())) {
            String fileId = envelope.externalIds().get("file_id");
            if (fileId == null || fileId.isBlank()) {
                throw new MalformedEventException("Telegram file content without file_id");
            }
            return List.of(new DomainChange.FileContent(fileId, envelope.externalIds().getOrDefault("name", "file"),
                    envelope.externalIds().getOrDefault("mime_type", "application/octet-stream"), envelope.payloadBytes()));
        }
        JsonNode update;
        try {
            update = ContractJson.mapper().readTree(envelope.payloadText());
        } catch (JacksonException e) {
            throw new MalformedEventException("Telegram update is not JSON");
        }
        if (update == null || !update.isObject() || !update.path("update_id").canConvertToLong()) {
            throw new MalformedEventException("not a Telegram Update: no numeric update_id");
        }
        String account = envelope.account();
        if (update.has("message")) {
            String skip = groupSkip(update.get("message"), envelope.externalIds());
            return skip != null ? List.of(new Ignored(skip)) : message(account, update.get("message"));
        }
        if (update.has("edited_message")) {
            return edited(account, update.get("edited_message"));
        }
        if (update.has("channel_post") || update.has("edited_channel_post")) {
            return List.of(new Ignored("channel post: a channel broadcasts, no customer writes there"));
        }
        if (update.has("my_chat_member")) {
            return chatMember(update.get("my_chat_member"));
        }
        if (update.has("callback_query")) {
            return List.of(new Ignored("callback query: inline buttons are not used by the inbox"));
        }
        String kind = update.propertyNames().stream().filter(n -> !n.equals("update_id")).findFirst().orElse("empty");
        return List.of(new Ignored("update type '" + kind + "' is not a customer message"));
    }

    /** Telegram message ids are unique per chat only, so the chat is part of the key. */
    @Override
    public String outboundMessageKey(String account, Map<String, String> recipient, String externalId) {
        return key(account, recipient.getOrDefault("chat_id", "?"), externalId);
    }

    /**
     * In groups the bot sees every message; only those meant for support become conversations,
     * by the account's policy (the adapter puts it, and the bot's username, in the external ids).
     */
    static String groupSkip(JsonNode m, Map<String, String> context) {
        String type = m.path("chat").path("type").asString("private");
        if (!type.equals("group") && !type.equals("supergroup")) {
            return null;
        }
        String policy = context.getOrDefault("group_policy", "mentions");
        if (policy.equals("all")) {
            return null;
        }
        if (policy.equals("none")) {
            return "group message: groups are off for this bot";
        }
        String bot = context.get("bot_username");
        JsonNode repliedTo = m.path("reply_to_message").path("from");
        if (repliedTo.path("is_bot").asBoolean(false)
                && (bot == null || bot.equalsIgnoreCase(repliedTo.path("username").asString("")))) {
            return null;
        }
        String text = m.has("text") ? m.path("text").asString("") : m.path("caption").asString("");
        JsonNode entities = m.has("entities") ? m.path("entities") : m.path("caption_entities");
        for (JsonNode e : entities) {
            if (!"mention".equals(e.path("type").asString(""))) {
                continue;
            }
            int from = e.path("offset").asInt(0);
            int to = Math.min(text.length(), from + e.path("length").asInt(0));
            String mention = from < to ? text.substring(from, to) : "";
            if (bot == null || mention.equalsIgnoreCase("@" + bot)) {
                return null;
            }
        }
        return "group message not addressed to the bot";
    }

    private List<DomainChange> message(String account, JsonNode m) throws MalformedEventException {
        JsonNode chat = m.path("chat");
        JsonNode from = m.path("from");
        if (!chat.path("id").canConvertToLong() || !m.path("message_id").canConvertToLong()) {
            throw new MalformedEventException("Telegram message without chat.id or message_id");
        }
        String chatId = chat.path("id").asString();
        // Without a sender (anonymous group admins) the chat itself is the best identity we have.
        Identity sender = new Identity("telegram", from.path("id").canConvertToLong() ? from.path("id").asString() : chatId);
        String name = displayName(from.isMissingNode() ? chat : from);

        List<Attachment> attachments = new ArrayList<>();
        List<DomainChange> changes = new ArrayList<>();
        String text = m.has("text") ? m.path("text").asString() : m.path("caption").asString(null);

        // the same files, chosen by the same rule (largest photo size), as channel-telegram fetches
        for (TelegramFiles.File f : TelegramFiles.of(m)) {
            attachments.add(new Attachment(f.name(), f.contentType(), f.size(), f.kind(), f.fileId()));
        }
        if (text == null && m.path("sticker").hasNonNull("emoji")) {
            text = m.path("sticker").path("emoji").asString();
        }
        if (m.has("location")) {
            JsonNode l = m.get("location");
            text = "Location: " + l.path("latitude").asString() + ", " + l.path("longitude").asString();
        }
        if (m.has("contact")) {
            JsonNode c = m.get("contact");
            String phone = c.path("phone_number").asString("");
            text = "Contact: " + (displayName(c) == null ? "" : displayName(c) + " ") + phone;
            // A contact shared by its own owner is their phone number: a new identity of this person.
            if (!phone.isBlank() && c.path("user_id").asString("").equals(sender.value())) {
                changes.add(new ContactUpdate(sender, name, null, List.of(new Identity("phone", phone)), Map.of()));
            }
        }
        if (text == null && attachments.isEmpty()) {
            return List.of(new Ignored("service message without customer content"));
        }
        String messageId = m.path("message_id").asString();
        String replyTo = m.path("reply_to_message").path("message_id").asString(null);
        Map<String, String> fields = Map.of();
        // t.me/<bot>?start=<parameter> deep links arrive as "/start <parameter>": where the customer came from
        if (text != null && text.startsWith("/start ") && text.length() > 7) {
            fields = Map.of("telegramStart", text.substring(7).trim());
        }
        changes.add(0, new CustomerMessage(
                key(account, chatId, messageId), messageId, sender, name,
                Thread.chat("telegram:" + account + ":chat:" + chatId),
                Map.of("chat_id", chatId),
                Instant.ofEpochSecond(m.path("date").asLong()),
                null, text, attachments, replyTo, false, fields));
        return changes;
    }

    private List<DomainChange> edited(String account, JsonNode m) throws MalformedEventException {
        if (!m.path("chat").path("id").canConvertToLong() || !m.path("message_id").canConvertToLong()) {
            throw new MalformedEventException("Telegram edited_message without chat.id or message_id");
        }
        String text = m.has("text") ? m.path("text").asString() : m.path("caption").asString(null);
        Instant at = Instant.ofEpochSecond(m.path("edit_date").asLong(m.path("date").asLong()));
        return List.of(new MessageEdited(key(account, m.path("chat").path("id").asString(), m.path("message_id").asString()), text, at));
    }

    private List<DomainChange> chatMember(JsonNode member) {
        String status = member.path("new_chat_member").path("status").asString("");
        JsonNode from = member.path("from");
        if (!from.path("id").canConvertToLong()) {
            return List.of(new Ignored("my_chat_member without a user"));
        }
        Identity who = new Identity("telegram", from.path("id").asString());
        return switch (status) {
            case "kicked", "left" -> List.of(new ContactUpdate(who, displayName(from), false, List.of(), Map.of()));
            case "member", "administrator" -> List.of(new ContactUpdate(who, displayName(from), true, List.of(), Map.of()));
            default -> List.of(new Ignored("my_chat_member status '" + status + "'"));
        };
    }

    static String displayName(JsonNode user) {
        String first = user.path("first_name").asString("");
        String last = user.path("last_name").asString("");
        String full = (first + " " + last).trim();
        if (!full.isEmpty()) {
            return full;
        }
        String username = user.path("username").asString("");
        if (!username.isEmpty()) {
            return "@" + username;
        }
        String title = user.path("title").asString("");
        return title.isEmpty() ? null : title;
    }

    static String key(String account, String chatId, String messageId) {
        return "telegram:" + account + ":" + chatId + ":" + messageId;
    }
}
