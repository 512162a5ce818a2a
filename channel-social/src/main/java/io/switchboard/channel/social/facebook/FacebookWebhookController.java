package io.switchboard.channel.social.facebook;

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
import org.springframework.kafka.support.SendResult;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Messenger Platform webhook (https://developers.facebook.com/docs/messenger-platform/webhooks):
 * the subscription verification GET, and POSTed batches signed with X-Hub-Signature-256 over the
 * raw body. Every {@code messaging} item of every {@code entry} is published as its own envelope
 * (keyed by page and PSID, so each customer's events stay ordered), and 200 is answered only once
 * all of them are on the broker; otherwise Facebook delivers the whole batch again, and the items
 * already stored are recognised by their event ids and message ids.
 */
@RestController
class FacebookWebhookController {

    private static final Logger log = LoggerFactory.getLogger(FacebookWebhookController.class);
    static final int MAX_BATCH_BYTES = 4 << 20;

    private final FacebookProperties properties;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;

    FacebookWebhookController(FacebookProperties properties, KafkaTemplate<String, byte[]> kafka, ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /** https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests */
    @GetMapping(path = "/webhooks/facebook/{account}")
    ResponseEntity<?> verify(@PathVariable String account,
                             @RequestParam(name = "hub.mode", required = false) String mode,
                             @RequestParam(name = "hub.verify_token", required = false) String token,
                             @RequestParam(name = "hub.challenge", required = false) String challenge) {
        FacebookProperties.Account page = properties.account(account);
        if (page == null) {
            return error(HttpStatus.NOT_FOUND, "no Facebook account '" + safe(account) + "'");
        }
        if (!"subscribe".equals(mode) || challenge == null || !matches(page.verifyToken(), token)) {
            return error(HttpStatus.FORBIDDEN, "verification refused: bad hub.mode, hub.verify_token or no hub.challenge");
        }
        return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body(challenge);
    }

    @PostMapping(path = "/webhooks/facebook/{account}")
    ResponseEntity<?> receive(@PathVariable String account,
                              @RequestHeader(name = "X-Hub-Signature-256", required = false) String signature,
                              @RequestBody(required = false) byte[] body) {
        FacebookProperties.Account page = properties.account(account);
        if (page == null) {
            return error(HttpStatus.NOT_FOUND, "no Facebook account '" + safe(account) + "'");
        }
        byte[] raw = body == null ? new byte[0] : body;
        if (raw.length > MAX_BATCH_BYTES) {
            return error(HttpStatus.PAYLOAD_TOO_LARGE, "batch larger than " + MAX_BATCH_BYTES + " bytes");
        }
        if (!signatureMatches(page.appSecret(), raw, signature)) {
            return error(HttpStatus.UNAUTHORIZED, "bad or missing X-Hub-Signature-256");
        }
        JsonNode batch;
        try {
            batch = ContractJson.mapper().readTree(new String(raw, StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            return error(HttpStatus.BAD_REQUEST, "body is not JSON");
        }
        if (batch == null || !batch.isObject() || !batch.path("object").isString()) {
            return error(HttpStatus.BAD_REQUEST, "not a webhook batch: no object");
        }
        if (!"page".equals(batch.path("object").asString())) {
            // Another product's webhook (instagram, user...) sent here: acknowledged so it is not retried forever.
            log.warn("Facebook account {}: ignoring a webhook for object '{}'", safe(account), safe(batch.path("object").asString()));
            return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body("EVENT_RECEIVED");
        }
        if (!batch.path("entry").isArray()) {
            return error(HttpStatus.BAD_REQUEST, "not a page webhook batch: no entry array");
        }
        List<InboundEnvelope> envelopes = new ArrayList<>();
        int skipped = 0;
        for (JsonNode entry : batch.path("entry")) {
            if (!entry.path("messaging").isArray()) {
                skipped++; // feed changes, standby (another app has the thread): not ours to answer
                continue;
            }
            for (JsonNode item : entry.path("messaging")) {
                if (item.isObject()) {
                    envelopes.add(envelope(account, entry, item, clock));
                }
            }
        }
        if (skipped > 0) {
            log.debug("Facebook account {}: {} entries without messaging ignored", safe(account), skipped);
        }
        List<CompletableFuture<SendResult<String, byte[]>>> sends = new ArrayList<>();
        try {
            for (InboundEnvelope e : envelopes) {
                sends.add(kafka.send(Topics.inbound(Channel.FACEBOOK), e.affinityKey(), ContractJson.toBytes(e)));
            }
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(HttpStatus.SERVICE_UNAVAILABLE, "interrupted before the batch was stored; Facebook will retry");
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("Facebook batch of {} items for account {} not stored, answering 503 so Facebook retries: {}",
                    envelopes.size(), safe(account), e.toString());
            return error(HttpStatus.SERVICE_UNAVAILABLE, "broker unavailable; Facebook will retry");
        }
        return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body("EVENT_RECEIVED");
    }

    /**
     * One messaging item as a one-item webhook body ({@code {"object":"page","entry":[{"id","time",
     * "messaging":[item]}]}}): the item unchanged, with the page it belongs to, in the shape the
     * Messenger documentation describes, so the normalizer reads a batch and a single item alike.
     */
    static InboundEnvelope envelope(String account, JsonNode entry, JsonNode item, Clock clock) {
        ObjectNode single = ContractJson.mapper().createObjectNode();
        single.put("object", "page");
        ArrayNode entries = single.putArray("entry");
        ObjectNode e = entries.addObject();
        e.set("id", entry.path("id").isMissingNode() ? e.nullNode() : entry.get("id"));
        if (entry.has("time")) {
            e.set("time", entry.get("time"));
        }
        e.putArray("messaging").add(item);
        String text = ContractJson.mapper().writeValueAsString(single);

        String pageId = entry.path("id").asString("");
        String senderId = item.path("sender").path("id").asString("");
        String recipientId = item.path("recipient").path("id").asString("");
        boolean fromPage = item.path("message").path("is_echo").asBoolean(false) || (!pageId.isEmpty() && pageId.equals(senderId));
        String psid = fromPage ? recipientId : senderId;
        if (psid.isEmpty()) {
            psid = item.path("optin").path("user_ref").asString("unknown");
        }
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("page_id", pageId);
        ids.put("psid", psid);
        String kind = kind(item);
        ids.put("kind", kind);
        String mid = item.path(kind).path("mid").asString("");
        if (!mid.isEmpty()) {
            ids.put("mid", mid);
        }
        String prefix = "facebook:" + account + ":";
        String eventId;
        if (!mid.isEmpty()) {
            eventId = prefix + kind + ":" + mid + (kind.equals("message_edit") ? ":" + item.path(kind).path("num_edit").asString("") : "");
        } else if (item.path(kind).path("watermark").canConvertToLong()) {
            eventId = prefix + kind + ":" + psid + ":" + item.path(kind).path("watermark").asString();
        } else {
            eventId = prefix + "sha256:" + sha256(ContractJson.mapper().writeValueAsString(item));
        }
        return InboundEnvelope.ofText(eventId, Channel.FACEBOOK, account, ids, clock.instant(),
                prefix + pageId + ":" + psid, MediaType.APPLICATION_JSON_VALUE, text);
    }

    /** The field that says what the item is: message, delivery, read, postback, optin, reaction, ... */
    static String kind(JsonNode item) {
        for (String name : item.propertyNames()) {
            if (!name.equals("sender") && !name.equals("recipient") && !name.equals("timestamp")) {
                return name;
            }
        }
        return "unknown";
    }

    /** {@code sha256=<hex>} of HMAC-SHA256 over the raw body with the app secret, compared in constant time. */
    static boolean signatureMatches(String appSecret, byte[] raw, String header) {
        if (appSecret == null || appSecret.isEmpty() || header == null) {
            return false;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(appSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] expected = ("sha256=" + HexFormat.of().formatHex(mac.doFinal(raw))).getBytes(StandardCharsets.US_ASCII);
            return MessageDigest.isEqual(expected, header.trim().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean matches(String expected, String given) {
        if (expected == null || expected.isEmpty() || given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9_.-]", "?");
    }

    private static ResponseEntity<Map<String, Object>> error(HttpStatus status, String reason) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(Map.of("ok", false, "error", reason));
    }
}
