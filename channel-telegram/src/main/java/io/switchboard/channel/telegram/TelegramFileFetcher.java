package io.switchboard.channel.telegram;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.TelegramFiles;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fetches the files customers send (https://core.telegram.org/bots/api#getfile) and publishes each
 * file's bytes as an event of its own ({@link TelegramFiles#CONTENT_TYPE}) on the chat's key, so it
 * lands after its message.
 *
 * <p>Crash-safe by being a Kafka consumer of the adapter's own inbound topic, in a consumer group
 * of its own ({@value #GROUP}): the webhook and the poller only publish the Update (and answer or
 * confirm it once it is durable); this listener reads it back and commits its offset only after the
 * file-content event is acknowledged by the broker (once per poll, after every update of the poll). A crash anywhere before that leaves the offset
 * behind, and the next adapter fetches the file again (at least once; the router stores file content
 * by its ref, an upsert, so a second copy changes nothing).
 *
 * <p>Which files, and which photo size, come from {@link TelegramFiles}, the rule the router's
 * normalizer lists attachments by. Files above {@code max-file-bytes} (by the size Telegram
 * announces, then by the bytes actually read) stay metadata. Failures worth another try (429, 5xx,
 * network, broker) are thrown, so the container retries the update with back-off (see
 * {@code TelegramAdapterConfiguration#telegramFileListenerFactory}); permanent ones (Telegram
 * refuses the file, e.g. "file is too big") are logged and skipped.
 */
@Component
class TelegramFileFetcher {

    static final String LISTENER_ID = "telegram-files";
    static final String GROUP = "switchboard-channel-telegram-files";
    private static final Logger log = LoggerFactory.getLogger(TelegramFileFetcher.class);

    private final TelegramProperties properties;
    private final TelegramClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final MeterRegistry meters;

    TelegramFileFetcher(TelegramProperties properties, TelegramClient client, KafkaTemplate<String, byte[]> kafka,
                        ObjectProvider<Clock> clock, MeterRegistry meters) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.meters = meters;
    }

    /** A failure worth another try: the container retries the whole update after a back-off. */
    static final class RetryableFetchException extends Exception {
        RetryableFetchException(String reason) {
            super(reason);
        }
    }

    @KafkaListener(id = LISTENER_ID, containerFactory = "telegramFileListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).inbound(T(io.switchboard.contract.Channel).TELEGRAM)}",
            groupId = GROUP,
            // static membership, as the sender: a restarted adapter gets its partitions back at once
            properties = "group.instance.id=telegram-files-${switchboard.instance-id}")
    void onInbound(ConsumerRecord<String, byte[]> record) throws Exception {
        if (record.value() != null && !contains(record.value(), FILE_ID) && !contains(record.value(), BASE64)) {
            return; // no file in it (most updates): not worth decoding the envelope and the update
        }
        InboundEnvelope envelope;
        try {
            envelope = ContractJson.fromBytes(record.value(), InboundEnvelope.class);
        } catch (ContractJson.UndecodableRecordException e) {
            log.warn("file fetcher skips an undecodable inbound record at {}-{}@{}", record.topic(), record.partition(), record.offset());
            return;
        }
        fetchAll(envelope);
    }

    private static final byte[] FILE_ID = "file_id".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** A payload in base64 hides its text from {@link #contains}: such a record is decoded anyway. */
    private static final byte[] BASE64 = ("\"" + InboundEnvelope.ENCODING_BASE64 + "\"").getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * Fetches and publishes every file of one Update envelope, returning once each file-content event
     * is durable. Anything but a Telegram Update (our own file-content events) is passed over.
     */
    void fetchAll(InboundEnvelope envelope) throws Exception {
        if (envelope.channel() != Channel.TELEGRAM || !MediaType.APPLICATION_JSON_VALUE.equals(envelope.contentType())) {
            return;
        }
        JsonNode update;
        try {
            update = ContractJson.mapper().readTree(envelope.payloadText());
        } catch (JacksonException e) {
            return; // the router reports it as malformed; there is no file to fetch from it
        }
        // Only new messages: the router records attachments of those (an edit changes the text only).
        List<TelegramFiles.File> files = TelegramFiles.of(update.path("message"));
        if (files.isEmpty()) {
            return;
        }
        TelegramProperties.Account bot = properties.account(envelope.account());
        if (bot == null) {
            log.warn("Telegram account {} is not configured here: the files of {} stay metadata", envelope.account(), envelope.eventId());
            count("no_account", files.size());
            return;
        }
        List<CompletableFuture<?>> sends = new ArrayList<>();
        for (TelegramFiles.File file : files) {
            InboundEnvelope content = fetch(envelope, bot, file);
            if (content != null) {
                sends.add(TelegramUpdates.publish(kafka, content));
            }
        }
        try {
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new RetryableFetchException("file content of " + envelope.eventId() + " not stored in Kafka: " + e);
        }
        count("fetched", sends.size());
    }

    /** The file-content event, or null when the file stays metadata (too large, refused by Telegram). */
    private InboundEnvelope fetch(InboundEnvelope update, TelegramProperties.Account bot, TelegramFiles.File file)
            throws RetryableFetchException {
        String account = update.account();
        long limit = properties.maxFileBytes();
        if (file.size() != null && file.size() > limit) {
            log.info("Telegram account {}: a {} of {} bytes in {} is over max-file-bytes ({}); it stays metadata", account,
                    file.kind(), file.size(), update.eventId(), limit);
            count("too_large", 1);
            return null;
        }
        TelegramClient.Result meta = client.call(bot, "getFile", Map.of("file_id", file.fileId()));
        if (!meta.ok()) {
            String reason = meta.description() == null ? "HTTP " + meta.httpStatus() : meta.description();
            if (meta.transientFailure()) {
                throw new RetryableFetchException("getFile failed: " + reason);
            }
            // e.g. 400 "Bad Request: file is too big" above the Bot API's 20 MB
            log.warn("Telegram account {}: getFile refused a {} of {} ({}); it stays metadata", account, file.kind(),
                    update.eventId(), reason);
            count("refused", 1);
            return null;
        }
        JsonNode result = meta.result();
        if (result == null || !result.hasNonNull("file_path")) {
            log.warn("Telegram account {}: getFile gave no file_path for a {} of {}; it stays metadata", account, file.kind(),
                    update.eventId());
            count("refused", 1);
            return null;
        }
        if (result.path("file_size").asLong(0) > limit) {
            log.info("Telegram account {}: a {} of {} bytes in {} is over max-file-bytes ({}); it stays metadata", account,
                    file.kind(), result.path("file_size").asLong(), update.eventId(), limit);
            count("too_large", 1);
            return null;
        }
        TelegramClient.Fetched fetched = client.download(bot, result.path("file_path").asString(), limit);
        if (fetched.bytes() == null) {
            if (fetched.transientFailure()) {
                throw new RetryableFetchException(fetched.reason());
            }
            log.warn("Telegram account {}: a {} of {} not fetched ({}); it stays metadata", account, file.kind(),
                    update.eventId(), fetched.reason());
            count(fetched.reason().contains("larger than") ? "too_large" : "refused", 1);
            return null;
        }
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("file_id", file.fileId());
        ids.put("name", file.name());
        ids.put("mime_type", file.contentType());
        ids.put("file_size", Integer.toString(fetched.bytes().length));
        if (update.externalIds().containsKey("update_id")) {
            ids.put("update_id", update.externalIds().get("update_id"));
        }
        return InboundEnvelope.ofBytes("telegram:" + account + ":file:" + file.fileId(), Channel.TELEGRAM, account, ids,
                clock.instant(), update.affinityKey(), TelegramFiles.CONTENT_TYPE, fetched.bytes());
    }

    private void count(String outcome, int n) {
        meters.counter("switchboard.telegram.files", "outcome", outcome).increment(n);
    }
}
