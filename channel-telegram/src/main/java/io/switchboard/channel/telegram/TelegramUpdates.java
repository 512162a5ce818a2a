package io.switchboard.channel.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.springframework.http.MediaType;
import org.springframework.kafka.core.KafkaTemplate;
import tools.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Wraps Bot API Updates into inbound envelopes and publishes them; shared by the webhook and the poller. */
final class TelegramUpdates {

    /** The update types a support inbox needs (https://core.telegram.org/bots/api#getupdates allowed_updates). */
    static final List<String> ALLOWED = List.of("message", "edited_message", "channel_post", "edited_channel_post",
            "my_chat_member", "callback_query");

    /** Checks the shape of an Update; returns the reason it is not one, or null. */
    static String problem(JsonNode update) {
        if (update == null || !update.isObject() || !update.path("update_id").canConvertToLong()) {
            return "not a Telegram Update: no numeric update_id";
        }
        if (update.size() < 2) {
            return "not a Telegram Update: no update content besides update_id";
        }
        return null;
    }

    /**
     * @param context what the normalizer needs beyond the update itself: {@code bot_username} (from getMe)
     *                and {@code group_policy}; carried in the envelope's external ids
     */
    static InboundEnvelope envelope(String account, JsonNode update, String raw, Instant receivedAt, Map<String, String> context) {
        String updateId = update.path("update_id").asString();
        JsonNode message = firstMessage(update);
        String chatId = message.path("chat").path("id").asString("");
        Map<String, String> ids = new LinkedHashMap<>();
        ids.putAll(context);
        ids.put("update_id", updateId);
        if (!chatId.isEmpty()) {
            ids.put("chat_id", chatId);
        }
        if (message.path("message_id").canConvertToLong()) {
            ids.put("message_id", message.path("message_id").asString());
        }
        String affinity = "telegram:" + account + ":chat:" + (chatId.isEmpty() ? senderId(update, updateId) : chatId);
        return InboundEnvelope.ofText("telegram:" + account + ":update:" + updateId, Channel.TELEGRAM, account, ids,
                receivedAt, affinity, MediaType.APPLICATION_JSON_VALUE, raw);
    }

    static CompletableFuture<?> publish(KafkaTemplate<String, byte[]> kafka, InboundEnvelope envelope) {
        return kafka.send(Topics.inbound(Channel.TELEGRAM), envelope.affinityKey(), ContractJson.toBytes(envelope));
    }

    /** The message-like object of an update, where the chat is. */
    private static JsonNode firstMessage(JsonNode update) {
        for (String field : new String[]{"message", "edited_message", "channel_post", "edited_channel_post",
                "business_message", "my_chat_member", "chat_member", "chat_join_request"}) {
            if (update.has(field)) {
                return update.get(field);
            }
        }
        return update.path("callback_query").path("message");
    }

    private static String senderId(JsonNode update, String fallback) {
        for (JsonNode value : update) {
            if (value.path("from").path("id").canConvertToLong()) {
                return "user:" + value.path("from").path("id").asString();
            }
        }
        return "update:" + fallback;
    }

    private TelegramUpdates() {
    }
}
