package io.switchboard.channel.social.vk;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * VK Callback API endpoint (https://dev.vk.com/en/api/callback/getting-started): answers the
 * {@code confirmation} request with the configured code, checks {@code group_id} and {@code secret}
 * on every other event, publishes it and answers {@code ok} only once the broker has it. Anything
 * else makes VK send the event again (with the same {@code event_id}), which is what we want when
 * we could not store it.
 */
@RestController
class VkWebhookController {

    private static final Logger log = LoggerFactory.getLogger(VkWebhookController.class);
    static final int MAX_EVENT_BYTES = 1 << 20;

    private final VkProperties properties;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;

    VkWebhookController(VkProperties properties, KafkaTemplate<String, byte[]> kafka, ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        properties.accounts().forEach((name, account) -> {
            if (account.enabled() && account.callback() && (account.secret() == null || account.secret().isBlank())) {
                log.warn("VK account {} has no Callback API secret (VK_SECRET): its events are refused with 403 until one is set",
                        safe(name));
            }
        });
    }

    @PostMapping(path = "/webhooks/vk/{account}")
    ResponseEntity<?> receive(@PathVariable String account, @RequestBody(required = false) byte[] body) {
        VkProperties.Account community = properties.account(account);
        if (community == null || !community.callback()) {
            return error(HttpStatus.NOT_FOUND, "no VK Callback API account '" + safe(account) + "'");
        }
        if (body == null || body.length == 0) {
            return error(HttpStatus.BAD_REQUEST, "empty body: expected one VK Callback API event");
        }
        if (body.length > MAX_EVENT_BYTES) {
            return error(HttpStatus.PAYLOAD_TOO_LARGE, "event larger than " + MAX_EVENT_BYTES + " bytes");
        }
        JsonNode event;
        try {
            event = ContractJson.mapper().readTree(withoutBom(utf8(body)));
        } catch (CharacterCodingException | JacksonException e) {
            return error(HttpStatus.BAD_REQUEST, "body is not JSON");
        }
        if (event == null || !event.isObject() || !event.path("type").isString() || event.path("type").asString().isBlank()) {
            return error(HttpStatus.BAD_REQUEST, "not a VK Callback API event: no type");
        }
        if (!community.groupId().trim().equals(event.path("group_id").asString(""))) {
            return error(HttpStatus.FORBIDDEN, "group_id does not match this account");
        }
        String type = event.path("type").asString();
        if (type.equals("confirmation")) {
            String code = community.confirmationCode();
            if (code == null || code.isBlank()) {
                return error(HttpStatus.FORBIDDEN, "no confirmation code configured for this account");
            }
            return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body(code.trim());
        }
        if (!secretMatches(community.secret(), event.path("secret").isString() ? event.path("secret").asString() : null)) {
            return error(HttpStatus.FORBIDDEN, "bad or missing secret");
        }
        InboundEnvelope envelope = envelope(account, (ObjectNode) event, clock);
        try {
            kafka.send(Topics.inbound(Channel.VK), envelope.affinityKey(), ContractJson.toBytes(envelope)).get(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(HttpStatus.SERVICE_UNAVAILABLE, "interrupted before the event was stored; VK will retry");
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("VK event {} of account {} not stored, answering 503 so VK retries: {}", envelope.eventId(),
                    safe(account), e.toString());
            return error(HttpStatus.SERVICE_UNAVAILABLE, "broker unavailable; VK will retry");
        }
        return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body("ok");
    }

    /**
     * The envelope of one event (Callback API or Bots Long Poll, same object). The payload is the
     * event as received without its {@code secret}: a credential has no place in a replayable log.
     * The event id is VK's {@code event_id} (the same on every retry), or for API versions without
     * one a digest of the event, which a retry repeats byte for byte.
     */
    static InboundEnvelope envelope(String account, ObjectNode event, Clock clock) {
        event.remove("secret");
        String text = ContractJson.mapper().writeValueAsString(event);
        String type = event.path("type").asString("");
        JsonNode object = event.path("object");
        JsonNode message = object.path("message").isObject() ? object.path("message") : object;
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("type", type);
        putIfPresent(ids, "event_id", event.path("event_id"));
        putIfPresent(ids, "group_id", event.path("group_id"));
        putIfPresent(ids, "peer_id", message.path("peer_id"));
        putIfPresent(ids, "message_id", message.path("id"));
        putIfPresent(ids, "conversation_message_id", message.path("conversation_message_id"));
        putIfPresent(ids, "user_id", object.path("user_id"));
        String eventId = event.path("event_id").isString() && !event.path("event_id").asString().isBlank()
                ? "vk:" + account + ":event:" + event.path("event_id").asString()
                : "vk:" + account + ":sha256:" + sha256(text);
        return InboundEnvelope.ofText(eventId, Channel.VK, account, ids, clock.instant(), affinity(account, type, object, message),
                MediaType.APPLICATION_JSON_VALUE, text);
    }

    /** One conversation's events share a key: the dialog (peer), the wall thread, or the user. */
    static String affinity(String account, String type, JsonNode object, JsonNode message) {
        String prefix = "vk:" + account + ":";
        if (type.startsWith("wall_reply") && object.path("post_id").canConvertToLong()) {
            return prefix + "wall:" + object.path("post_owner_id").asString("") + "_" + object.path("post_id").asString();
        }
        if (message.path("peer_id").canConvertToLong()) {
            return prefix + "peer:" + message.path("peer_id").asString();
        }
        if (object.path("user_id").canConvertToLong()) {
            return prefix + "peer:" + object.path("user_id").asString();
        }
        return prefix + "community";
    }

    private static void putIfPresent(Map<String, String> ids, String name, JsonNode value) {
        if (value.isValueNode() && !value.isNull() && !value.asString("").isBlank()) {
            ids.put(name, value.asString());
        }
    }

    static String utf8(byte[] body) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
    }

    /** Some senders (and some VK fixtures) start the JSON with a UTF-8 byte order mark. */
    static String withoutBom(String text) {
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean secretMatches(String expected, String given) {
        if (expected == null || expected.isEmpty() || given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    static String safe(String account) {
        return account.replaceAll("[^A-Za-z0-9_.-]", "?");
    }

    private static ResponseEntity<Map<String, Object>> error(HttpStatus status, String reason) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(Map.of("ok", false, "error", reason));
    }
}
