package io.switchboard.channel.social.vk;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bots Long Poll intake (https://dev.vk.com/en/api/bots-long-poll/getting-started) for accounts in
 * {@code longpoll} mode: one thread per community asks groups.getLongPollServer for a server, key
 * and ts, then waits for updates. Each batch of updates is published durably first and only then
 * its new {@code ts} is recorded (on the compacted topic {@link #STATE_TOPIC}, keyed by account),
 * so a restart resumes exactly after the last stored batch. {@code failed}: 1 = history partly
 * lost, continue with the new ts; 2 = key expired, get a new key and keep our ts; 3 = key and ts
 * lost, get both anew.
 */
@Component
class VkPoller implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(VkPoller.class);
    /** Long-poll cursors by account; compacted, so only the newest per account is kept. */
    static final String STATE_TOPIC = "inbox.adapter-state.vk.v1";

    private final VkProperties properties;
    private final VkClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final KafkaProperties kafkaProperties;
    private final Clock clock;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;

    VkPoller(VkProperties properties, VkClient client, KafkaTemplate<String, byte[]> kafka, KafkaProperties kafkaProperties,
             ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.kafkaProperties = kafkaProperties;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Override
    public synchronized void start() {
        running = true;
        properties.accounts().forEach((name, account) -> {
            if (account.enabled() && !account.callback() && account.canSend()) {
                Thread t = new Thread(() -> run(name, account), "vk-longpoll-" + name);
                t.setDaemon(true);
                threads.add(t);
                t.start();
                log.info("VK account {} receives events by Bots Long Poll", VkWebhookController.safe(name));
            }
        });
    }

    @Override
    public synchronized void stop() {
        running = false;
        threads.forEach(Thread::interrupt);
        threads.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** The long-poll session: server, key and the ts to ask from. */
    record Session(String server, String key, String ts) {
    }

    private void run(String name, VkProperties.Account account) {
        // this thread polls one account: its log lines (and the publish path's) carry channel and account
        org.slf4j.MDC.put("channel", "vk");
        org.slf4j.MDC.put("account", name);
        String ts = restoreTs(name);
        Session session = null;
        int failures = 0;
        while (running) {
            try {
                if (session == null) {
                    VkClient.Result r = client.call(account, "groups.getLongPollServer", Map.of("group_id", account.groupId().trim()));
                    if (!r.ok()) {
                        log.warn("VK account {}: groups.getLongPollServer failed: {}", VkWebhookController.safe(name), VkSender.reason(r));
                        pause(++failures);
                        continue;
                    }
                    session = new Session(r.response().path("server").asString(), r.response().path("key").asString(),
                            r.response().path("ts").asString());
                    if (ts == null) {
                        ts = session.ts();
                    }
                }
                Step step = poll(name, account, session, ts);
                failures = step.failed() ? failures + 1 : 0;
                if (step.failed()) {
                    pause(failures);
                }
                session = step.keepSession() ? session : null;
                ts = step.ts();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.warn("VK account {}: long poll step failed: {}", VkWebhookController.safe(name), e.toString());
                try {
                    pause(++failures);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** What one poll leaves behind: the ts to ask from next, whether the key still holds, whether to back off. */
    record Step(String ts, boolean keepSession, boolean failed) {
    }

    Step poll(String name, VkProperties.Account account, Session session, String ts) throws InterruptedException {
        String url = session.server() + (session.server().contains("?") ? "&" : "?") + "act=a_check&key="
                + URLEncoder.encode(session.key(), StandardCharsets.UTF_8) + "&ts=" + URLEncoder.encode(ts, StandardCharsets.UTF_8)
                + "&wait=" + account.waitTime().toSeconds();
        VkClient.Result r = client.get(url);
        if (!r.ok()) {
            log.warn("VK account {}: long poll request failed: {}", VkWebhookController.safe(name), VkSender.reason(r));
            return new Step(ts, true, true);
        }
        JsonNode body = r.response();
        if (body.has("failed")) {
            int failed = body.path("failed").asInt();
            switch (failed) {
                case 1 -> {
                    // Part of the history is gone; continue from the ts VK gives (the events in between are lost).
                    log.warn("VK account {}: long poll history lost (failed=1), continuing from the new ts", VkWebhookController.safe(name));
                    return new Step(body.path("ts").asString(ts), true, false);
                }
                case 2 -> {
                    return new Step(ts, false, false); // key expired: new key, same ts
                }
                case 3 -> {
                    log.warn("VK account {}: long poll key and ts lost (failed=3), starting from a new ts", VkWebhookController.safe(name));
                    return new Step(null, false, false);
                }
                default -> {
                    log.warn("VK account {}: long poll failed={}", VkWebhookController.safe(name), failed);
                    return new Step(ts, false, true);
                }
            }
        }
        String next = body.path("ts").asString(ts);
        List<CompletableFuture<SendResult<String, byte[]>>> sends = new ArrayList<>();
        for (JsonNode update : body.path("updates")) {
            if (update.isObject() && update.path("type").isString()) {
                InboundEnvelope e = VkWebhookController.envelope(name, (ObjectNode) update, clock);
                sends.add(kafka.send(Topics.inbound(Channel.VK), e.affinityKey(), ContractJson.toBytes(e)));
            }
        }
        if (sends.isEmpty() && next.equals(ts)) {
            return new Step(ts, true, false); // nothing happened: nothing to record
        }
        try {
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
            // Only now is the batch durable: record where to resume.
            kafka.send(STATE_TOPIC, name, ContractJson.toBytes(Map.of("ts", next, "groupId", account.groupId().trim())))
                    .get(15, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.warn("VK account {}: long poll batch not stored, asking again from ts {}: {}", VkWebhookController.safe(name), ts, e.toString());
            return new Step(ts, true, true);
        }
        return new Step(next, true, false);
    }

    /** The last recorded ts of this account, or null to start from VK's current one. */
    String restoreTs(String name) {
        Map<String, Object> config = kafkaProperties.buildConsumerProperties();
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        String ts = null;
        try (Consumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(STATE_TOPIC, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), Duration.ofSeconds(10)).getOrDefault(partition, 0L);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.position(partition) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (name.equals(record.key()) && record.value() != null) {
                        ts = ContractJson.mapper().readTree(record.value()).path("ts").asString(null);
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("VK account {}: no long poll cursor restored ({}); starting from VK's current ts",
                    VkWebhookController.safe(name), e.toString());
        }
        return ts;
    }

    private static void pause(int failures) throws InterruptedException {
        Thread.sleep(Math.min(30_000, 500L << Math.min(failures, 6)));
    }
}
