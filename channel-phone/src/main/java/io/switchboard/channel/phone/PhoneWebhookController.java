package io.switchboard.channel.phone;

import io.switchboard.channel.phone.PhoneEventReader.Batch;
import io.switchboard.channel.phone.PhoneEventReader.Event;
import io.switchboard.channel.phone.PhoneEventReader.Rejected;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import jakarta.servlet.http.HttpServletRequest;
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
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
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
 * PBX call webhooks: {@code POST /webhooks/phone/{account}/{format}}. Each call event of the
 * request becomes one envelope, keyed by the customer's number so one caller's events stay in
 * order; the answer (202 with a summary of accepted and rejected lines) comes only once every
 * accepted event is on the broker. Formats are described in docs/channels/phone.md.
 */
@RestController
class PhoneWebhookController {

    private static final Logger log = LoggerFactory.getLogger(PhoneWebhookController.class);

    private final PhoneProperties properties;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;

    PhoneWebhookController(PhoneProperties properties, KafkaTemplate<String, byte[]> kafka, ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /** Zadarma checks a notification URL by a GET with {@code zd_echo} and expects the value back. */
    @GetMapping(path = "/webhooks/phone/{account}/zadarma", params = "zd_echo", produces = MediaType.TEXT_PLAIN_VALUE)
    ResponseEntity<String> zadarmaEcho(@PathVariable String account, @RequestParam("zd_echo") String echo) {
        if (properties.account(account) == null) {
            return ResponseEntity.status(HttpStatus.NOT_FOUND).body("no phone account");
        }
        return ResponseEntity.ok(echo.replaceAll("[^A-Za-z0-9_-]", ""));
    }

    /** Mango Office appends the event path (events/summary, events/call) to the configured URL. */
    @PostMapping(path = "/webhooks/phone/{account}/mango/events/{event}", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Map<String, Object>> mango(@PathVariable String account, @PathVariable String event, HttpServletRequest request) {
        return receive(account, PhoneEventReader.MANGO, request);
    }

    @PostMapping(path = "/webhooks/phone/{account}/{format}", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Map<String, Object>> receive(@PathVariable String account, @PathVariable String format,
                                                HttpServletRequest request) {
        PhoneProperties.Account pbx = properties.account(account);
        if (pbx == null) {
            return error(HttpStatus.NOT_FOUND, "no phone account '" + safe(account) + "'");
        }
        if (!PhoneEventReader.FORMATS.contains(format)) {
            return error(HttpStatus.NOT_FOUND, "unknown format; expected one of " + PhoneEventReader.FORMATS);
        }
        byte[] body;
        try {
            body = readBody(request);
        } catch (IOException e) {
            return error(HttpStatus.BAD_REQUEST, "could not read the body");
        }
        if (body == null) {
            return error(HttpStatus.PAYLOAD_TOO_LARGE, "body larger than " + properties.maxBodyBytes() + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return error(HttpStatus.BAD_REQUEST, "body is not UTF-8 text");
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        if (!authorized(pbx, format, text, request)) {
            return error(HttpStatus.UNAUTHORIZED, "bad or missing credentials (Authorization: Bearer, or the vendor's signature)");
        }
        if (text.isBlank()) {
            return error(HttpStatus.BAD_REQUEST, "empty body: expected call events");
        }
        Batch batch;
        try {
            batch = PhoneEventReader.read(format, text);
        } catch (PhoneEventReader.BadRequest e) {
            return error(HttpStatus.BAD_REQUEST, e.getMessage());
        }
        List<Map<String, Object>> rejected = new ArrayList<>();
        for (Rejected r : batch.rejected()) {
            rejected.add(Map.of(r.unit(), r.number(), "reason", r.reason()));
        }
        if (!batch.rejected().isEmpty()) {
            log.warn("phone {} request of account {}: {} event(s) rejected, {} kept", format, safe(account),
                    batch.rejected().size(), batch.events().size());
        }
        if (batch.events().isEmpty()) {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("ok", false);
            answer.put("error", "no valid call event in the request");
            answer.put("accepted", 0);
            answer.put("rejected", rejected);
            return ResponseEntity.badRequest().contentType(MediaType.APPLICATION_JSON).body(answer);
        }
        Instant now = clock.instant();
        List<CompletableFuture<SendResult<String, byte[]>>> sends = new ArrayList<>();
        try {
            for (Event e : batch.events()) {
                InboundEnvelope envelope = envelope(account, format, pbx, e, now);
                sends.add(kafka.send(Topics.inbound(Channel.PHONE), envelope.affinityKey(), ContractJson.toBytes(envelope)));
            }
            for (CompletableFuture<SendResult<String, byte[]>> send : sends) {
                send.get(15, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(HttpStatus.SERVICE_UNAVAILABLE, "interrupted before the events were stored; send them again");
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("phone {} events of account {} not stored, answering 503 so the PBX retries: {}", format,
                    safe(account), e.toString());
            return error(HttpStatus.SERVICE_UNAVAILABLE, "broker unavailable; send the events again");
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("ok", true);
        answer.put("accepted", batch.events().size());
        answer.put("rejected", rejected);
        return ResponseEntity.status(HttpStatus.ACCEPTED).contentType(MediaType.APPLICATION_JSON).body(answer);
    }

    static InboundEnvelope envelope(String account, String format, PhoneProperties.Account pbx, Event e, Instant now) {
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("format", format);
        ids.put("call_id", e.callId());
        ids.put("region", pbx.region());
        ids.put("time_zone", pbx.zone());
        ids.put(e.unit(), String.valueOf(e.number()));
        String affinity = "phone:" + account + ":" + PhoneEventReader.affinityNumber(e.customer(), pbx.region());
        // The same event sent twice gets the same id; two events of one call differ by their content.
        String eventId = "phone:" + account + ":" + format + ":" + e.callId() + ":" + sha256(e.payload()).substring(0, 16);
        return InboundEnvelope.ofText(eventId, Channel.PHONE, account, ids, now, affinity, e.contentType(), e.payload());
    }

    private boolean authorized(PhoneProperties.Account pbx, String format, String text, HttpServletRequest request) {
        try {
            // Cloud PBXes cannot send our bearer token; when their secret is configured, their signature decides.
            if (format.equals(PhoneEventReader.ZADARMA) && PhoneProperties.Account.present(pbx.zadarmaSecret())) {
                return VendorSignatures.zadarma(PhoneEventReader.form(text), pbx.zadarmaSecret(), request.getHeader("Signature"));
            }
            if (format.equals(PhoneEventReader.MANGO) && PhoneProperties.Account.present(pbx.mangoApiKey())
                    && PhoneProperties.Account.present(pbx.mangoApiSalt())) {
                return VendorSignatures.mango(PhoneEventReader.form(text), pbx.mangoApiKey(), pbx.mangoApiSalt());
            }
            if (format.equals(PhoneEventReader.TWILIO) && PhoneProperties.Account.present(pbx.twilioAuthToken())) {
                String url = PhoneProperties.Account.present(pbx.twilioWebhookUrl()) ? pbx.twilioWebhookUrl()
                        : request.getRequestURL() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
                return VendorSignatures.twilio(PhoneEventReader.form(text), url, pbx.twilioAuthToken(),
                        request.getHeader("X-Twilio-Signature"));
            }
        } catch (PhoneEventReader.BadRequest e) {
            return false;
        }
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return VendorSignatures.equal(pbx.webhookToken(), header.substring(7).trim());
    }

    /** The raw body, or null when it is over the limit. A form already parsed by a filter is rebuilt from its parameters. */
    private byte[] readBody(HttpServletRequest request) throws IOException {
        int limit = properties.maxBodyBytes();
        if (request.getContentLengthLong() > limit) {
            return null;
        }
        byte[] bytes;
        try (InputStream in = request.getInputStream()) {
            bytes = in.readNBytes(limit + 1);
        }
        if (bytes.length > limit) {
            return null;
        }
        if (bytes.length == 0 && !request.getParameterMap().isEmpty()) {
            StringBuilder form = new StringBuilder();
            request.getParameterMap().forEach((name, values) -> {
                for (String v : values) {
                    form.append(form.isEmpty() ? "" : "&").append(java.net.URLEncoder.encode(name, StandardCharsets.UTF_8))
                            .append('=').append(java.net.URLEncoder.encode(v, StandardCharsets.UTF_8));
                }
            });
            bytes = form.toString().getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String safe(String account) {
        return account.replaceAll("[^A-Za-z0-9_.-]", "?");
    }

    private static ResponseEntity<Map<String, Object>> error(HttpStatus status, String reason) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(Map.of("ok", false, "error", reason));
    }
}
