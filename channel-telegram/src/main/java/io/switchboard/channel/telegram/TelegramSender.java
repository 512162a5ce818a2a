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
 * Sends agents' replies through sendMessage, and their files through sendPhoto/sendDocument, and
 * reports each outcome (a sent reply carries the id of the last message it took). Transient failures (429
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
        if (!command.attachments().isEmpty()) {
            return sendWithFiles(command, account, chatId);
        }
        Progress progress = new Progress();
        DeliveryReport failed = sendText(command, account, chatId, command.text() == null ? "" : command.text(), progress);
        return failed != null ? failed : DeliveryReport.sent(command, progress.lastId, progress.attempts, clock.instant());
    }

    /** What a command has sent so far: attempts made, messages Telegram accepted, the id of the last one. */
    static final class Progress {
        int attempts;
        String lastId;

        int messages;

        void sent(TelegramClient.Result result) {
            messages++;
            String id = result.result() == null ? null : result.result().path("message_id").asString(null);
            if (id != null) {
                lastId = id;
            }
        }

        /** reply_parameters go on the first message only. */
        boolean first() {
            return messages == 0;
        }
    }

    /** Sends the text in parts of at most 4096 characters; returns the failure report, or null when all parts went out. */
    private DeliveryReport sendText(OutboundCommand command, TelegramProperties.Account account, String chatId, String text,
                                    Progress progress) throws InterruptedException {
        List<String> parts = split(text);
        for (int i = 0; i < parts.size(); i++) {
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("chat_id", chatId);
            params.put("text", parts.get(i));
            replyParameters(command, progress, params);
            TelegramClient.Result result = attempt(command, chatId, progress, () -> client.call(account, "sendMessage", params));
            if (!result.ok()) {
                return failure(command, result, progress, parts.size() > 1 ? "part " + (i + 1) + " of " + parts.size() + ": " : "");
            }
            progress.sent(result);
        }
        return null;
    }

    /** sendPhoto takes photos up to 10 MB (https://core.telegram.org/bots/api#sending-files). */
    static final long MAX_PHOTO_BYTES = 10L * 1024 * 1024;
    /** Bots upload other files up to 50 MB. */
    static final long MAX_UPLOAD_BYTES = 50L * 1024 * 1024;
    /** A caption holds at most 1024 characters; a longer text goes first as its own message. */
    static final int MAX_CAPTION = 1024;
    private static final java.util.Set<String> PHOTO_TYPES = java.util.Set.of("image/jpeg", "image/png", "image/webp");

    /**
     * A reply with files: every file is downloaded first (a missing one fails the reply before
     * anything is sent), then the text (as the caption of a single file when it fits, else as its
     * own messages first), then each file by sendPhoto (JPEG, PNG, WebP up to 10 MB) or sendDocument.
     */
    private DeliveryReport sendWithFiles(OutboundCommand command, TelegramProperties.Account account, String chatId)
            throws InterruptedException {
        Progress progress = new Progress();
        List<TelegramClient.Upload> files = new ArrayList<>();
        for (OutboundCommand.Attachment a : command.attachments()) {
            String name = a.name() == null || a.name().isBlank() ? "file" : a.name();
            TelegramClient.Fetched fetched = null;
            for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
                fetched = client.fetch(name, a.url(), MAX_UPLOAD_BYTES);
                if (fetched.bytes() != null || !fetched.transientFailure()) {
                    break;
                }
                if (attempt < properties.sendAttempts()) {
                    sleeper.sleep(Math.min(30_000, 500L << attempt));
                }
            }
            if (fetched.bytes() == null) {
                return DeliveryReport.failed(command, fetched.reason(), progress.attempts, clock.instant());
            }
            String type = a.contentType() != null && !a.contentType().isBlank() ? a.contentType()
                    : fetched.contentType() != null ? fetched.contentType() : "application/octet-stream";
            type = type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
            boolean photo = PHOTO_TYPES.contains(type) && fetched.bytes().length <= MAX_PHOTO_BYTES;
            files.add(new TelegramClient.Upload(photo ? "photo" : "document", name, type, fetched.bytes()));
        }
        String text = command.text() == null || command.text().isBlank() ? null : command.text();
        String caption = text != null && files.size() == 1 && text.length() <= MAX_CAPTION ? text : null;
        if (text != null && caption == null) {
            DeliveryReport failed = sendText(command, account, chatId, text, progress);
            if (failed != null) {
                return failed;
            }
        }
        for (TelegramClient.Upload file : files) {
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("chat_id", chatId);
            if (caption != null) {
                params.put("caption", caption);
            }
            replyParameters(command, progress, params);
            TelegramClient.Upload upload = file;
            TelegramClient.Result result = attempt(command, chatId, progress,
                    () -> client.upload(account, upload.field().equals("photo") ? "sendPhoto" : "sendDocument", params, upload));
            if (!result.ok() && upload.field().equals("photo") && !result.transientFailure() && result.httpStatus() != 403
                    && result.errorCode() != 403) {
                // Telegram refuses some images as photos (dimensions, aspect ratio): they still go, as documents
                TelegramClient.Upload document = new TelegramClient.Upload("document", upload.fileName(), upload.contentType(), upload.bytes());
                result = attempt(command, chatId, progress, () -> client.upload(account, "sendDocument", params, document));
            }
            if (!result.ok()) {
                return failure(command, result, progress, "attachment " + upload.fileName() + ": ");
            }
            progress.sent(result);
        }
        return DeliveryReport.sent(command, progress.lastId, progress.attempts, clock.instant());
    }

    private static void replyParameters(OutboundCommand command, Progress progress, Map<String, Object> params) {
        if (progress.first() && command.inReplyTo() != null && command.inReplyTo().matches("\\d+")) {
            params.put("reply_parameters", Map.of("message_id", Long.parseLong(command.inReplyTo()),
                    "allow_sending_without_reply", true));
        }
    }

    /** One call, retried on 429 (after retry_after), 5xx and network errors, spaced by the rate limits. */
    private TelegramClient.Result attempt(OutboundCommand command, String chatId, Progress progress,
                                          java.util.function.Supplier<TelegramClient.Result> call) throws InterruptedException {
        TelegramClient.Result result = null;
        for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
            progress.attempts++;
            limiter.acquire(command.account(), chatId);
            result = call.get();
            if (result.ok() || !result.transientFailure()) {
                break;
            }
            long wait = result.retryAfter() != null ? result.retryAfter() * 1000L : Math.min(30_000, 500L << attempt);
            if (attempt < properties.sendAttempts()) {
                sleeper.sleep(wait);
            }
        }
        return result;
    }

    private DeliveryReport failure(OutboundCommand command, TelegramClient.Result result, Progress progress, String prefix) {
        String reason = prefix + (result.description() != null ? result.description() : "Telegram answered HTTP " + result.httpStatus())
                + (progress.messages == 0 ? "" : " (" + progress.messages + " message(s) of this reply were sent before)");
        // 403: the user blocked the bot or deleted the chat; nothing we send will arrive until they return
        return result.httpStatus() == 403 || result.errorCode() == 403
                ? DeliveryReport.unreachable(command, reason, progress.attempts, clock.instant())
                : DeliveryReport.failed(command, reason, progress.attempts, clock.instant());
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
