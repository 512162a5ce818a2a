package io.switchboard.channel.social.facebook;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sends agents' replies with the Send API as {@code messaging_type: RESPONSE} and reports each
 * outcome. Every message carries {@code metadata: "switchboard:<our message id>"}, which Facebook
 * echoes back in the page's is_echo event, so the router tells our sends from replies an agent
 * typed in Facebook's own inbox. Rate limits (4, 32, 613) and transport failures are retried;
 * 551 (person unavailable) and the 24-hour window (10 / 2018278) end as failed with a clear reason,
 * unless a message tag is configured for the latter.
 */
@Component
class FacebookSender {

    private static final Logger log = LoggerFactory.getLogger(FacebookSender.class);
    /** A text message takes at most 2000 characters. */
    static final int MAX_TEXT = 2000;
    static final String METADATA_PREFIX = "switchboard:";

    private final FacebookProperties properties;
    private final FacebookClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final Sleeper sleeper;

    FacebookSender(FacebookProperties properties, FacebookClient client, KafkaTemplate<String, byte[]> kafka,
                   ObjectProvider<Clock> clock, ObjectProvider<Sleeper> sleeper) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.sleeper = sleeper.getIfAvailable(() -> Thread::sleep);
    }

    /** Waits between attempts; replaceable in tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    @KafkaListener(id = "facebook-sender", containerFactory = "facebookListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).outbound(T(io.switchboard.contract.Channel).FACEBOOK)}",
            groupId = "switchboard-channel-facebook",
            properties = "group.instance.id=facebook-${switchboard.instance-id}")
    void onCommand(ConsumerRecord<String, byte[]> record) throws Exception {
        OutboundCommand command;
        try {
            command = ContractJson.fromBytes(record.value(), OutboundCommand.class);
        } catch (ContractJson.UndecodableRecordException e) {
            log.warn("skipping undecodable outbound command at {}-{}@{}", record.topic(), record.partition(), record.offset());
            return;
        }
        DeliveryReport report = send(command);
        kafka.send(Topics.DELIVERY_REPORTS, command.conversationId(), ContractJson.toBytes(report)).get(30, TimeUnit.SECONDS);
    }

    DeliveryReport send(OutboundCommand command) throws InterruptedException {
        FacebookProperties.Account page = properties.account(command.account());
        if (page == null || !page.canSend()) {
            return DeliveryReport.failed(command, "Facebook account '" + command.account() + "' has no page access token configured",
                    0, clock.instant());
        }
        String psid = command.recipient().get("psid");
        if (psid == null || psid.isBlank()) {
            return DeliveryReport.failed(command, "no Messenger recipient (PSID) to reply to", 0, clock.instant());
        }
        String text = command.text() == null ? "" : command.text();
        if (text.isBlank() && command.attachments().isEmpty()) {
            return DeliveryReport.failed(command, "empty reply: no text and no attachments", 0, clock.instant());
        }
        // Text parts first, then one message per attachment, each by URL
        // (https://developers.facebook.com/docs/messenger-platform/send-messages#url).
        List<Map<String, Object>> messages = new ArrayList<>();
        if (!text.isBlank()) {
            for (String part : split(text)) {
                messages.add(Map.of("text", part, "metadata", METADATA_PREFIX + command.messageId()));
            }
        }
        for (OutboundCommand.Attachment a : command.attachments()) {
            if (a.url() == null || a.url().isBlank()) {
                return DeliveryReport.failed(command, "attachment '" + a.name() + "' has no URL Messenger could fetch", 0, clock.instant());
            }
            messages.add(Map.of("attachment", Map.of("type", attachmentType(a.contentType()),
                    "payload", Map.of("url", a.url(), "is_reusable", false)), "metadata", METADATA_PREFIX + command.messageId()));
        }
        String firstId = null;
        int attempts = 0;
        String tag = null;
        for (int i = 0; i < messages.size(); i++) {
            FacebookClient.Result result = null;
            for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
                attempts++;
                result = client.sendMessage(page, request(psid, messages.get(i), tag));
                if (!result.ok() && result.outsideWindow() && tag == null && present(page.outsideWindowTag())) {
                    tag = page.outsideWindowTag().trim(); // allowed only with a tag from now on: same attempt again, tagged
                    attempt--;
                    continue;
                }
                if (result.ok() || !result.transientFailure()) {
                    break;
                }
                if (attempt < properties.sendAttempts()) {
                    sleeper.sleep(Math.min(30_000, 1000L << attempt));
                }
            }
            if (!result.ok()) {
                return DeliveryReport.failed(command, (i > 0 ? "part " + (i + 1) + " of " + messages.size() + ": " : "")
                        + reason(result), attempts, clock.instant());
            }
            if (firstId == null) {
                firstId = result.body().path("message_id").asString(null);
            }
        }
        return DeliveryReport.sent(command, firstId, attempts, clock.instant());
    }

    static Map<String, Object> request(String psid, Map<String, Object> message, String tag) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("recipient", Map.of("id", psid));
        request.put("messaging_type", tag == null ? "RESPONSE" : "MESSAGE_TAG");
        if (tag != null) {
            request.put("tag", tag);
        }
        request.put("message", message);
        return request;
    }

    static String attachmentType(String contentType) {
        String type = contentType == null ? "" : contentType.toLowerCase(java.util.Locale.ROOT);
        if (type.startsWith("image/")) {
            return "image";
        }
        if (type.startsWith("video/")) {
            return "video";
        }
        if (type.startsWith("audio/")) {
            return "audio";
        }
        return "file";
    }

    static String reason(FacebookClient.Result result) {
        if (result.code() == 551) {
            return "This person isn't available right now (Messenger error 551)";
        }
        if (result.outsideWindow()) {
            return "outside the 24-hour messaging window: Messenger accepts a reply only within 24 h of the customer's last "
                    + "message (error " + result.code() + (result.subcode() != 0 ? "/" + result.subcode() : "") + ")";
        }
        if (result.code() == 4 || result.code() == 32 || result.code() == 613) {
            return "Messenger rate limit still hit after retries (error " + result.code() + ")";
        }
        if (result.code() == 190) {
            return "Facebook rejected the page access token (error 190)";
        }
        if (result.code() != 0) {
            return result.message() + " (Messenger error " + result.code() + (result.subcode() != 0 ? "/" + result.subcode() : "") + ")";
        }
        return result.message() != null ? result.message() : "Graph API answered HTTP " + result.httpStatus();
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    /** Splits at the limit, preferring a line break or a space, never inside a surrogate pair. */
    static List<String> split(String text) {
        List<String> parts = new ArrayList<>();
        String rest = text;
        while (rest.length() > MAX_TEXT) {
            int cut = rest.lastIndexOf('\n', MAX_TEXT);
            if (cut < MAX_TEXT / 2) {
                cut = rest.lastIndexOf(' ', MAX_TEXT);
            }
            if (cut < MAX_TEXT / 2) {
                cut = MAX_TEXT;
                if (Character.isHighSurrogate(rest.charAt(cut - 1))) {
                    cut--;
                }
            }
            parts.add(rest.substring(0, cut));
            rest = rest.substring(cut).stripLeading();
        }
        parts.add(rest);
        return parts;
    }
}
