package io.switchboard.channel.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Fetches the files customers send (https://core.telegram.org/bots/api#getfile) in the background,
 * after the update itself is stored and acknowledged, and publishes each file's bytes as a raw
 * event of its own ({@link #CONTENT_TYPE}) on the chat's key, so it lands after its message.
 * Files above {@code max-file-bytes} (default 10 MB, the Bot API serves at most 20 MB) are left as
 * metadata. A failed fetch is retried a few times; the message never depends on it.
 */
@Component
class TelegramFileFetcher implements DisposableBean {

    static final String CONTENT_TYPE = "application/vnd.switchboard.file";
    private static final Logger log = LoggerFactory.getLogger(TelegramFileFetcher.class);

    private final TelegramProperties properties;
    private final TelegramClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "telegram-files");
        t.setDaemon(true);
        return t;
    });

    TelegramFileFetcher(TelegramProperties properties, TelegramClient client, KafkaTemplate<String, byte[]> kafka,
                        ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /** Files of an update worth fetching: file_id, name, type, size. */
    static List<Map<String, String>> files(JsonNode update) {
        List<Map<String, String>> out = new ArrayList<>();
        JsonNode m = update.has("message") ? update.get("message") : update.path("edited_message");
        JsonNode photos = m.path("photo");
        if (photos.isArray() && !photos.isEmpty()) {
            JsonNode largest = photos.get(photos.size() - 1);
            for (JsonNode p : photos) {
                if (p.path("width").asLong(0) * p.path("height").asLong(0) > largest.path("width").asLong(0) * largest.path("height").asLong(0)) {
                    largest = p;
                }
            }
            out.add(file(largest, "photo.jpg", "image/jpeg"));
        }
        for (String kind : new String[]{"document", "voice", "audio", "video", "video_note", "animation", "sticker"}) {
            if (m.has(kind) && m.get(kind).hasNonNull("file_id")) {
                out.add(file(m.get(kind), kind, "application/octet-stream"));
            }
        }
        return out;
    }

    private static Map<String, String> file(JsonNode f, String defaultName, String defaultType) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("file_id", f.path("file_id").asString());
        d.put("name", f.path("file_name").asString(defaultName));
        d.put("mime_type", f.path("mime_type").asString(defaultType));
        d.put("file_size", f.path("file_size").asString("0"));
        return d;
    }

    void fetchLater(String account, String affinityKey, JsonNode update) {
        List<Map<String, String>> files = files(update);
        if (!files.isEmpty()) {
            executor.submit(() -> files.forEach(f -> fetch(account, affinityKey, f)));
        }
    }

    void fetch(String account, String affinityKey, Map<String, String> file) {
        TelegramProperties.Account bot = properties.account(account);
        long declared = Long.parseLong(file.getOrDefault("file_size", "0").isBlank() ? "0" : file.get("file_size"));
        if (bot == null || declared > properties.maxFileBytes()) {
            return;
        }
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                TelegramClient.Result meta = client.call(bot, "getFile", Map.of("file_id", file.get("file_id")));
                if (!meta.ok() || !meta.result().hasNonNull("file_path")) {
                    log.warn("Telegram account {}: getFile failed: {}", account, meta.description());
                    return;
                }
                byte[] bytes = client.download(bot, meta.result().path("file_path").asString(), properties.maxFileBytes());
                if (bytes == null) {
                    return; // larger than the limit after all
                }
                Map<String, String> ids = new LinkedHashMap<>(file);
                ids.put("file_size", Integer.toString(bytes.length));
                InboundEnvelope envelope = InboundEnvelope.ofBytes("telegram:" + account + ":file:" + file.get("file_id"),
                        Channel.TELEGRAM, account, ids, clock.instant(), affinityKey, CONTENT_TYPE, bytes);
                TelegramUpdates.publish(kafka, envelope).get(30, TimeUnit.SECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                log.warn("Telegram account {}: fetching a file failed (attempt {}): {}", account, attempt, e.toString());
                try {
                    Thread.sleep(1000L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void destroy() {
        executor.shutdownNow();
    }
}
