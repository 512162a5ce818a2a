package io.switchboard.channel.telegram;

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
 * Sends agents' replies through sendMessage and reports each outcome. Transient failures (429
 * with retry_after, 5xx, network) are retried; permanent ones (403 "bot was blocked by the user",
 * 400 "chat not found") end as failed with Telegram's own description, which agents see.
 */
@Component
class TelegramSender {

    private static final Logger log = LoggerFactory.getLogger(TelegramSender.class);
    /** sendMessage takes at most 4096 characters (https://core.telegram.org/bots/api#sendmessage). */
    static final int MAX_TEXT = 4096;

    private final TelegramProperties properties;
    private final TelegramClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final Sleeper sleeper;
    private final RateLimiter limiter;

    TelegramSender(TelegramProperties properties, TelegramClient client, KafkaTemplate<String, byte[]> kafka,
                   ObjectProvider<Clock> clock, ObjectProvider<Sleeper> sleeper) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.sleeper = sleeper.getIfAvailable(() -> Thread::sleep);
        this.limiter = new RateLimiter(this.sleeper);
    }

    /**
     * Telegram's published limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
     * about one message per second to one chat and 30 per second per bot. Waiting here is cheaper than a 429.
     */
    static final class RateLimiter {
        static final long PER_CHAT_NANOS = 1_000_000_000L;
        static final long PER_BOT_NANOS = 1_000_000_000L / 30;
        private final Sleeper sleeper;
        private final Map<String, Long> lastByChat = new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                return size() > 10_000;
            }
        };
        private final Map<String, Long> lastByBot = new java.util.HashMap<>();

        RateLimiter(Sleeper sleeper) {
            this.sleeper = sleeper;
        }

        synchronized void acquire(String account, String chatId) throws InterruptedException {
            long now = System.nanoTime();
            long chatReady = lastByChat.getOrDefault(account + ":" + chatId, now - PER_CHAT_NANOS) + PER_CHAT_NANOS;
            long botReady = lastByBot.getOrDefault(account, now - PER_BOT_NANOS) + PER_BOT_NANOS;
            long ready = Math.max(chatReady, botReady);
            if (ready > now) {
                sleeper.sleep((ready - now + 999_999) / 1_000_000);
            }
            long sent = Math.max(now, ready);
            lastByChat.put(account + ":" + chatId, sent);
            lastByBot.put(account, sent);
        }
    }

    /** Waits between attempts; replaceable in tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    @KafkaListener(id = "telegram-sender", containerFactory = "telegramListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).outbound(T(io.switchboard.contract.Channel).TELEGRAM)}",
            groupId = "switchboard-channel-telegram",
            // static membership: a restarted adapter gets its partitions back at once (see RouterProperties)
            properties = "group.instance.id=telegram-${switchboard.instance-id}")
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
        TelegramProperties.Account account = properties.account(command.account());
        if (account == null) {
            return DeliveryReport.failed(command, "Telegram account '" + command.account() + "' is not configured", 0, clock.instant());
        }
        String chatId = command.recipient().get("chat_id");
        if (chatId == null || chatId.isBlank()) {
            return DeliveryReport.failed(command, "no Telegram chat to reply to", 0, clock.instant());
        }
        List<String> parts = split(command.text() == null ? "" : command.text());
        String firstId = null;
        int attempts = 0;
        for (int i = 0; i < parts.size(); i++) {
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("chat_id", chatId);
            params.put("text", parts.get(i));
            if (i == 0 && command.inReplyTo() != null && command.inReplyTo().matches("\\d+")) {
                params.put("reply_parameters", Map.of("message_id", Long.parseLong(command.inReplyTo()),
                        "allow_sending_without_reply", true));
            }
            TelegramClient.Result result = null;
            for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
                attempts++;
                limiter.acquire(command.account(), chatId);
                result = client.call(account, "sendMessage", params);
                if (result.ok() || !result.transientFailure()) {
                    break;
                }
                long wait = result.retryAfter() != null ? result.retryAfter() * 1000L : Math.min(30_000, 500L << attempt);
                if (attempt < properties.sendAttempts()) {
                    sleeper.sleep(wait);
                }
            }
            if (!result.ok()) {
                String reason = (i > 0 ? "part " + (i + 1) + " of " + parts.size() + ": " : "")
                        + (result.description() != null ? result.description() : "Telegram answered HTTP " + result.httpStatus());
                // 403: the user blocked the bot or deleted the chat; nothing we send will arrive until they return
                return result.httpStatus() == 403 || result.errorCode() == 403
                        ? DeliveryReport.unreachable(command, reason, attempts, clock.instant())
                        : DeliveryReport.failed(command, reason, attempts, clock.instant());
            }
            if (firstId == null) {
                firstId = result.result().path("message_id").asString(null);
            }
        }
        return DeliveryReport.sent(command, firstId, attempts, clock.instant());
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
