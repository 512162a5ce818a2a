package io.switchboard.channel.telegram;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
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
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bot API webhook (https://core.telegram.org/bots/api#setwebhook): checks the secret token,
 * publishes the Update unchanged and answers 200 only once the broker has it. Anything but 2xx
 * makes Telegram deliver the update again, which is what we want when we could not store it.
 */
@RestController
class TelegramWebhookController {

    private static final Logger log = LoggerFactory.getLogger(TelegramWebhookController.class);
    static final int MAX_UPDATE_BYTES = 1 << 20;

    private final TelegramProperties properties;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final TelegramBots bots;

    TelegramWebhookController(TelegramProperties properties, KafkaTemplate<String, byte[]> kafka, ObjectProvider<Clock> clock,
                              TelegramBots bots) {
        this.properties = properties;
        this.kafka = kafka;
        this.bots = bots;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @PostMapping(path = "/webhooks/telegram/{account}", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Map<String, Object>> receive(@PathVariable String account,
                                                @RequestHeader(name = "X-Telegram-Bot-Api-Secret-Token", required = false) String secret,
                                                @RequestBody(required = false) byte[] body) {
        TelegramProperties.Account bot = properties.account(account);
        if (bot == null || !bot.webhook()) {
            return error(HttpStatus.NOT_FOUND, "no Telegram webhook account '" + safe(account) + "'");
        }
        if (!secretMatches(bot.webhookSecret(), secret)) {
            return error(HttpStatus.UNAUTHORIZED, "bad or missing X-Telegram-Bot-Api-Secret-Token");
        }
        if (body == null || body.length == 0) {
            return error(HttpStatus.BAD_REQUEST, "empty body: expected one Telegram Update");
        }
        if (body.length > MAX_UPDATE_BYTES) {
            return error(HttpStatus.PAYLOAD_TOO_LARGE, "update larger than " + MAX_UPDATE_BYTES + " bytes");
        }
        String text;
        JsonNode update;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
            update = ContractJson.mapper().readTree(text);
        } catch (CharacterCodingException | JacksonException e) {
            return error(HttpStatus.BAD_REQUEST, "body is not JSON");
        }
        String problem = TelegramUpdates.problem(update);
        if (problem != null) {
            return error(HttpStatus.BAD_REQUEST, problem);
        }
        InboundEnvelope envelope = TelegramUpdates.envelope(account, update, text, clock.instant(), bots.context(account));
        String updateId = update.path("update_id").asString();
        try {
            TelegramUpdates.publish(kafka, envelope).get(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(HttpStatus.SERVICE_UNAVAILABLE, "interrupted before the update was stored; Telegram will retry");
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("Telegram update {} of account {} not stored, answering 503 so Telegram retries: {}", updateId,
                    safe(account), e.toString());
            return error(HttpStatus.SERVICE_UNAVAILABLE, "broker unavailable; Telegram will retry");
        }
        // files are fetched from the stored update by TelegramFileFetcher, a consumer of the inbound topic
        return ResponseEntity.ok(Map.of("ok", true));
    }

    static boolean secretMatches(String expected, String given) {
        if (expected == null || expected.isEmpty() || given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private static String safe(String account) {
        return account.replaceAll("[^A-Za-z0-9_.-]", "?");
    }

    private static ResponseEntity<Map<String, Object>> error(HttpStatus status, String reason) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(Map.of("ok", false, "error", reason));
    }
}
