package io.switchboard.channel.telegram;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.InboundEnvelope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Long polling for bots in polling mode (https://core.telegram.org/bots/api#getupdates).
 *
 * <p>The cursor lives at Telegram: an update is confirmed only when getUpdates is called with an
 * offset above its id. We move the offset only after the whole batch is durably in Kafka, so a
 * crash re-reads the batch (the router deduplicates) and never skips one. Nothing is kept locally.
 */
@Component
class TelegramPoller implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(TelegramPoller.class);

    private final TelegramProperties properties;
    private final TelegramClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final MeterRegistry meters;
    private final TelegramBots bots;
    private final List<Thread> threads = new ArrayList<>();
    private final TelegramSender.Sleeper sleeper;
    private final Map<String, Status> status = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean running;

    /**
     * What a polling bot is doing, for the health component {@code telegramAdapter}.
     *
     * @param state  {@code starting}, {@code receiving}, {@code conflict} (409: another poller, or a webhook, takes
     *               this bot's updates), {@code token refused} (401/404), {@code rate limited} (429) or {@code failing}
     * @param detail Telegram's description of the last failure (never a URL, so never the token), or null
     * @param since  when the bot entered this state
     */
    record Status(String state, String detail, java.time.Instant since) {
    }

    TelegramPoller(TelegramProperties properties, TelegramClient client, KafkaTemplate<String, byte[]> kafka,
                   ObjectProvider<Clock> clock, MeterRegistry meters, TelegramBots bots,
                   ObjectProvider<TelegramSender.Sleeper> sleeper) {
        this.sleeper = sleeper.getIfAvailable(() -> Thread::sleep);
        this.bots = bots;
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.meters = meters;
    }

    @Override
    public void start() {
        running = true;
        properties.accounts().forEach((name, account) -> {
            if (account.enabled() && !account.webhook()) {
                Thread t = new Thread(() -> poll(name, account), "telegram-poller-" + name);
                t.setDaemon(true);
                threads.add(t);
                t.start();
                log.info("Telegram account {} receives updates by long polling", name);
            }
        });
    }

    /** Each polling bot's state, by account name. */
    Map<String, Status> status() {
        return Map.copyOf(status);
    }

    /** Records a state; true when it is a change (worth a log line: a bot stuck in 409 is not logged every 30 s). */
    private boolean state(String name, String state, String detail) {
        Status before = status.get(name);
        if (before != null && before.state().equals(state) && java.util.Objects.equals(before.detail(), detail)) {
            return false;
        }
        status.put(name, new Status(state, detail, clock.instant()));
        return true;
    }

    void poll(String name, TelegramProperties.Account account) {
        state(name, "starting", null);
        bots.learn(name, account);
        Long offset = null;
        long backoff = 1000;
        while (running) {
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("timeout", properties.pollTimeoutSeconds());
            params.put("allowed_updates", TelegramUpdates.ALLOWED);
            if (offset != null) {
                params.put("offset", offset);
            }
            TelegramClient.Result result = client.call(account, "getUpdates", params);
            if (!running) {
                return;
            }
            if (!result.ok()) {
                String reason = result.description() != null ? result.description() : "HTTP " + result.httpStatus();
                if (result.httpStatus() == 409 || result.errorCode() == 409) {
                    // https://core.telegram.org/bots/api#getupdates: "will not work if an outgoing webhook is set up";
                    // Telegram also answers 409 when a second getUpdates poller runs with the same token
                    if (state(name, "conflict", reason)) {
                        log.warn("Telegram account {}: getUpdates answered 409 Conflict ({}): {}; retrying every 30 s", name, reason,
                                reason.toLowerCase(java.util.Locale.ROOT).contains("webhook")
                                        ? "a webhook is set for this bot; delete it (deleteWebhook) or set TELEGRAM_MODE=webhook"
                                        : "another process polls this bot's updates; run one poller per bot");
                    }
                    backoff = 30_000;
                } else if (result.httpStatus() == 401 || result.httpStatus() == 404) {
                    if (state(name, "token refused", reason)) {
                        log.warn("Telegram account {}: the bot token is refused (HTTP {}); check TELEGRAM_BOT_TOKEN", name,
                                result.httpStatus());
                    }
                    backoff = 60_000;
                } else if (result.rateLimited()) {
                    state(name, "rate limited", reason);
                    log.warn("Telegram account {}: getUpdates rate limited ({}), waiting {} s as Telegram asks", name, reason,
                            result.retryAfter() == null ? backoff / 1000 : result.retryAfter());
                } else {
                    state(name, "failing", reason);
                    log.warn("Telegram account {}: getUpdates failed ({}), retrying in {} ms", name, reason, backoff);
                }
                // 429 carries how long to wait (https://core.telegram.org/bots/api#responseparameters retry_after)
                sleep(result.retryAfter() != null ? result.retryAfter() * 1000L : backoff);
                backoff = Math.min(backoff * 2, 60_000);
                continue;
            }
            if (state(name, "receiving", null)) {
                log.info("Telegram account {}: getUpdates answers", name);
            }
            backoff = 1000;
            JsonNode updates = result.result();
            if (updates == null || !updates.isArray() || updates.isEmpty()) {
                continue;
            }
            long next = offset == null ? Long.MIN_VALUE : offset;
            List<CompletableFuture<?>> sends = new ArrayList<>();
            for (JsonNode update : updates) {
                if (TelegramUpdates.problem(update) != null) {
                    continue; // getUpdates returns only Updates; anything else is not ours to store
                }
                next = Math.max(next, update.path("update_id").asLong() + 1);
                InboundEnvelope envelope = TelegramUpdates.envelope(name, update, update.toString(), clock.instant(),
                        bots.context(name));
                sends.add(TelegramUpdates.publish(kafka, envelope));
            }
            try {
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                offset = next; // files are fetched from the stored updates by TelegramFileFetcher
                meters.counter("switchboard.telegram.polled", "account", name).increment(sends.size());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // Not durable: keep the offset, so Telegram gives us the same updates again.
                log.warn("Telegram account {}: {} polled updates not stored ({}), fetching them again", name, sends.size(), e.toString());
                sleep(backoff);
            }
        }
    }

    private void sleep(long millis) {
        try {
            sleeper.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void stop() {
        running = false;
        threads.forEach(Thread::interrupt);
        threads.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Start after the Kafka producer is usable and stop before it closes. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }
}
