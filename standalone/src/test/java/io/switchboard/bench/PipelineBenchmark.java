package io.switchboard.bench;

import io.switchboard.SwitchboardApplication;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives the standalone pipeline (real embedded broker and H2-backed store, in this JVM) through
 * its webhooks with recorded Telegram payloads and prints:
 * <ol>
 *   <li>sustained pipeline throughput: messages per second from the first webhook to the last
 *       message visible (its message.added event, published after the store commit);</li>
 *   <li>end-to-end latency at a fixed rate (default 500/s): webhook answered 200 to visible, p50/p99;</li>
 *   <li>the ceiling on the same machine in the same run: a bare consumer reading the same inbound
 *       topic and bulk-inserting the same number of message documents into the same store.</li>
 * </ol>
 * Run: {@code ./mvnw -B -q -DskipTests install && ./mvnw -B -q -pl standalone -Pbench verify}
 * (settings: -Dbench.messages=6000 -Dbench.rate=500 -Dbench.seconds=20 -Dbench.clients=16).
 */
public final class PipelineBenchmark {

    static final String SECRET = "bench-secret";
    static final String[] FIXTURES = {"zammad_private_text.json", "zammad_private_photo_caption.json",
            "zammad_private_document_pdf.json", "zammad_private_voice.json", "tgdocs_message_with_reply.json",
            "authored_supergroup_bot_mention.json", "tgdocs_forwarded_message.json", "zammad_private_start.json"};

    private final HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(32)).build();
    private final Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
    private final Map<String, Long> visibleAt = new ConcurrentHashMap<>();
    private final List<String> templates = new ArrayList<>();
    private String base;
    private final AtomicLong sequence = new AtomicLong();

    public static void main(String[] args) throws Exception {
        new PipelineBenchmark().run();
        System.exit(0);
    }

    void run() throws Exception {
        int messages = Integer.getInteger("bench.messages", 6000);
        int rate = Integer.getInteger("bench.rate", 500);
        int seconds = Integer.getInteger("bench.seconds", 20);
        int clients = Integer.getInteger("bench.clients", 16);
        for (String f : FIXTURES) {
            templates.add(fixture(f));
        }
        Path data = Files.createTempDirectory("switchboard-bench");
        ConfigurableApplicationContext app = SwitchboardApplication.application().run("--server.port=0",
                "--INBOX_DATA_DIR=" + data, "--INBOX_ADMIN_PASSWORD=bench-password", "--INBOX_INSTANCE_ID=bench",
                "--TELEGRAM_BOT_TOKEN=1:bench", "--TELEGRAM_WEBHOOK_SECRET=" + SECRET, "--TELEGRAM_API_URL=http://127.0.0.1:9",
                "--switchboard.telegram.max-file-bytes=1", // no file fetching against the dead API URL
                "--logging.level.root=WARN",
                "--switchboard.router.concurrency=" + Integer.getInteger("bench.concurrency", 1));
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
        String bootstrap = app.getEnvironment().getProperty("spring.kafka.bootstrap-servers");
        MongoTemplate mongo = app.getBean(MongoTemplate.class);
        Thread watcher = watchEvents(bootstrap);

        System.out.printf("%nSwitchboard pipeline benchmark (%d cores, max heap %d MB, router concurrency %s)%n",
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                app.getEnvironment().getProperty("switchboard.router.concurrency"));
        // warm-up: JIT, topic metadata, consumer assignment
        sustained(1000, clients);

        long cpuBefore = cpuNanos();
        long[] sustained = sustained(messages, clients);
        double pipelineCpuMs = (cpuNanos() - cpuBefore) / 1e6 / messages;
        double pipelineRate = messages * 1000.0 / sustained[1];
        System.out.printf("sustained: %d messages, %d webhook clients: all accepted in %d ms (%.0f/s), "
                        + "all visible in %d ms -> %.0f messages/s%n", messages, clients, sustained[0],
                messages * 1000.0 / sustained[0], sustained[1], pipelineRate);
        System.out.printf("CPU per message, whole process (webhook, broker, router, store, SLA, API; load generator "
                + "included): %.2f ms%n", pipelineCpuMs);

        long[] latency = fixedRate(rate, seconds);
        System.out.printf("latency at %d messages/s for %d s (%d messages): webhook answered -> visible in the API: "
                        + "p50 %d ms, p99 %d ms, max %d ms; webhook answer p50 %d ms, p99 %d ms%n",
                rate, seconds, latency[0], latency[1], latency[2], latency[3], latency[4], latency[5]);

        long ceilingCpuBefore = cpuNanos();
        double ceiling = ceiling(bootstrap, mongo, messages);
        double ceilingCpuMs = (cpuNanos() - ceilingCpuBefore) / 1e6 / messages;
        System.out.printf("ceiling: bare consumer + bulk insert of %d documents: %.0f messages/s, CPU per document %.2f ms%n",
                messages, ceiling, ceilingCpuMs);
        System.out.printf("pipeline / ceiling: %.0f%% by wall time, %.0f%% by CPU time (the CPU figure holds when other "
                + "processes share the machine)%n%n", 100 * pipelineRate / ceiling, 100 * ceilingCpuMs / pipelineCpuMs);
        watcher.interrupt();
        app.close();
    }

    /** @return {ms until all answered, ms until all visible} */
    long[] sustained(int count, int clients) throws Exception {
        List<String> ids = new ArrayList<>(count);
        Semaphore inFlight = new Semaphore(clients);
        CountDownLatch answered = new CountDownLatch(count);
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            inFlight.acquire();
            String id = send(r -> {
                inFlight.release();
                answered.countDown();
            });
            ids.add(id);
        }
        answered.await();
        long accepted = (System.nanoTime() - start) / 1_000_000;
        awaitVisible(ids, Duration.ofMinutes(5));
        long visible = (System.nanoTime() - start) / 1_000_000;
        return new long[]{accepted, visible};
    }

    /** Open-loop load: one webhook every 1/rate s, whatever the answers do. */
    long[] fixedRate(int rate, int seconds) throws Exception {
        int count = rate * seconds;
        List<String> ids = new ArrayList<>(count);
        List<Long> answerMs = java.util.Collections.synchronizedList(new ArrayList<>());
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime();
        CountDownLatch answered = new CountDownLatch(count);
        for (int i = 0; i < count; i++) {
            long due = start + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
            long sent = System.nanoTime();
            ids.add(send(r -> {
                answerMs.add((System.nanoTime() - sent) / 1_000_000);
                answered.countDown();
            }));
        }
        answered.await();
        awaitVisible(ids, Duration.ofMinutes(5));
        long[] e2e = ids.stream().mapToLong(id -> Math.max(0, (visibleAt.get(id) - acceptedAt.get(id)) / 1_000_000)).sorted().toArray();
        long[] answers = answerMs.stream().mapToLong(Long::longValue).sorted().toArray();
        return new long[]{count, pct(e2e, 50), pct(e2e, 99), e2e[e2e.length - 1], pct(answers, 50), pct(answers, 99)};
    }

    /** The same inbound records read by a plain consumer and bulk-inserted as the same number of documents. */
    double ceiling(String bootstrap, MongoTemplate mongo, int count) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "bench-ceiling-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        int read = 0;
        long start = System.nanoTime();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.inbound(io.switchboard.contract.Channel.TELEGRAM)));
            while (read < count) {
                List<Document> docs = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                    docs.add(new Document("_id", e.eventId() + ":" + r.offset()).append("conversationId", e.affinityKey())
                            .append("text", e.payload()).append("receivedAt", java.util.Date.from(e.receivedAt())));
                }
                if (!docs.isEmpty()) {
                    mongo.getCollection("benchCeiling").insertMany(docs);
                    read += docs.size();
                }
            }
            consumer.commitSync();
        }
        return read * 1e9 / (System.nanoTime() - start);
    }

    String send(java.util.function.Consumer<HttpResponse<Void>> done) {
        long n = sequence.incrementAndGet();
        long chat = 1_000_000 + (n % 2000); // 2000 customers writing at once
        tools.jackson.databind.node.ObjectNode update = (tools.jackson.databind.node.ObjectNode)
                ContractJson.mapper().readTree(templates.get((int) (n % templates.size())));
        update.put("update_id", n);
        tools.jackson.databind.node.ObjectNode message = (tools.jackson.databind.node.ObjectNode) update.get("message");
        message.put("message_id", n);
        // sent now, as live traffic is: the recorded dates are years old, and would put every SLA clock past its deadline
        message.put("date", System.currentTimeMillis() / 1000);
        ((tools.jackson.databind.node.ObjectNode) message.get("chat")).put("id", chat);
        if (message.has("from")) {
            ((tools.jackson.databind.node.ObjectNode) message.get("from")).put("id", chat);
        }
        String body = update.toString();
        // the key the router derives for this message: telegram:default:<chat>:<message id>
        String key = "telegram:default:" + chat + ":" + n;
        String messageId = UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/webhooks/telegram/default"))
                .header("Content-Type", "application/json").header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
            if (r != null && r.statusCode() == 200) {
                acceptedAt.put(messageId, System.nanoTime());
            } else {
                System.err.println("webhook failed: " + (r == null ? e : r.statusCode()));
            }
            done.accept(r);
        });
        return messageId;
    }

    Thread watchEvents(String bootstrap) {
        Thread t = new Thread(() -> {
            Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "bench-watch-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(Topics.CONVERSATION_EVENTS));
                while (!Thread.currentThread().isInterrupted()) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        ConversationEvent e = ContractJson.fromBytes(r.value(), ConversationEvent.class);
                        if (ConversationEvent.MESSAGE_ADDED.equals(e.type()) && e.messageId() != null) {
                            visibleAt.putIfAbsent(e.messageId(), System.nanoTime());
                        }
                    }
                }
            } catch (org.apache.kafka.common.errors.InterruptException ignored) {
                // benchmark over
            }
        }, "bench-watch");
        t.setDaemon(true);
        t.start();
        try {
            Thread.sleep(3000); // let the watcher join its group before any message is sent
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return t;
    }

    void awaitVisible(List<String> ids, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ids.stream().allMatch(visibleAt::containsKey)) {
                return;
            }
            Thread.sleep(20);
        }
        long missing = ids.stream().filter(id -> !visibleAt.containsKey(id)).count();
        throw new IllegalStateException(missing + " of " + ids.size() + " messages never became visible");
    }

    /** CPU time this JVM used so far, all threads. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static long pct(long[] sorted, int p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = PipelineBenchmark.class.getResourceAsStream("/fixtures/telegram/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
