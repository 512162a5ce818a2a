package io.switchboard.bench;

import io.switchboard.SwitchboardApplication;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives the standalone pipeline (real embedded broker and H2-backed store, in this JVM) through
 * its webhooks with a mixed load built from recorded payloads (Telegram updates of eight kinds, VK
 * Callback API message_new, Messenger page messages, missed calls from a PBX; 2,000 customers) and
 * prints:
 * <ol>
 *   <li>sustained end-to-end throughput: messages per second from the first webhook to the last
 *       message visible (its message.added event, published after the store commit);</li>
 *   <li>the router's own rate on a backlog: the same number of events accepted by the webhooks while
 *       the router's inbound listener is stopped, then routed from Kafka into the store with nothing
 *       else running; this is what compares with the ceiling;</li>
 *   <li>end-to-end latency at a fixed rate (default 500/s): webhook answered 200 to visible, p50/p99;</li>
 *   <li>the ceiling on the same machine in the same run: a bare consumer reading the backlog's records
 *       from the same topics and bulk-inserting one document per record into the same store.</li>
 * </ol>
 * Requests are rendered to bytes before each timed phase and sent by {@link BenchHttp}, a blocking
 * keep-alive client, so the load generator adds little CPU of its own to what is measured. Run: {@code ./mvnw -B -q -DskipTests install && ./mvnw -B -q -pl standalone -Pbench verify}
 * (settings: -Dbench.messages=6000 -Dbench.rate=500 -Dbench.seconds=20 -Dbench.clients=16).
 */
public final class PipelineBenchmark {

    static final String TG_SECRET = "bench-secret";
    static final String VK_SECRET = "bench-vk-secret";
    static final String VK_GROUP = "123456789";
    static final String FB_APP_SECRET = "bench-fb-secret";
    static final String PHONE_TOKEN = "bench-phone-token";
    static final int CUSTOMERS = Integer.getInteger("bench.customers", 2000);
    static final String[] TELEGRAM = {"zammad_private_text.json", "zammad_private_photo_caption.json",
            "zammad_private_document_pdf.json", "zammad_private_voice.json", "tgdocs_message_with_reply.json",
            "authored_supergroup_bot_mention.json", "tgdocs_forwarded_message.json", "zammad_private_start.json"};

    /** One webhook call, rendered ahead of time, and the id of the message it must make visible. */
    record Call(byte[] request, String messageId, String channel) {
    }

    private BenchHttp http;
    private String host;
    private final CommandCounter commands = new CommandCounter();
    private final Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
    private final Map<String, Long> visibleAt = new ConcurrentHashMap<>();
    private final List<String> telegram = new ArrayList<>();
    private String vk;
    private String facebook;
    private long sequence;

    public static void main(String[] args) throws Exception {
        new PipelineBenchmark().run();
        System.exit(0);
    }

    void run() throws Exception {
        int messages = Integer.getInteger("bench.messages", 6000);
        int rate = Integer.getInteger("bench.rate", 500);
        int seconds = Integer.getInteger("bench.seconds", 20);
        int clients = Integer.getInteger("bench.clients", 16);
        for (String f : TELEGRAM) {
            telegram.add(fixture("telegram/" + f));
        }
        vk = fixture("vk/vknet_message_new_v5103_client_info.json");
        facebook = fixture("messenger/fbhs_page_message_text.json");
        Path data = Files.createTempDirectory("switchboard-bench");
        if (!Boolean.getBoolean("bench.keep-data")) {
            // also when a run fails and exits early (the end of a run deletes it too, once the broker has stopped)
            Runtime.getRuntime().addShutdownHook(new Thread(() -> org.springframework.util.FileSystemUtils.deleteRecursively(data.toFile())));
        }
        List<String> args = new ArrayList<>(List.of("--server.port=0",
                "--INBOX_DATA_DIR=" + data, "--INBOX_ADMIN_PASSWORD=bench-password", "--INBOX_INSTANCE_ID=bench",
                "--TELEGRAM_BOT_TOKEN=1:bench", "--TELEGRAM_WEBHOOK_SECRET=" + TG_SECRET, "--TELEGRAM_API_URL=http://127.0.0.1:9",
                "--switchboard.telegram.max-file-bytes=1", // no file fetching against the dead API URL
                "--VK_GROUP_ID=" + VK_GROUP, "--VK_SECRET=" + VK_SECRET, "--VK_CONFIRMATION_CODE=bench",
                "--VK_ACCESS_TOKEN=bench", "--VK_API_URL=http://127.0.0.1:9",
                "--FACEBOOK_VERIFY_TOKEN=bench", "--FACEBOOK_APP_SECRET=" + FB_APP_SECRET,
                "--FACEBOOK_PAGE_ACCESS_TOKEN=bench", "--FACEBOOK_GRAPH_URL=http://127.0.0.1:9",
                "--PHONE_WEBHOOK_TOKEN=" + PHONE_TOKEN,
                "--logging.level.root=WARN",
                "--switchboard.router.concurrency=" + Integer.getInteger("bench.concurrency", 1)));
        // more settings to try, e.g. -Dbench.args="--spring.kafka.consumer.fetch-max-wait=50ms"
        args.addAll(List.of(System.getProperty("bench.args", "").split("\\s+")).stream().filter(a -> !a.isBlank()).toList());
        org.springframework.boot.SpringApplication application = SwitchboardApplication.application();
        // counts the store's commands by name and collection (printed per phase with -Dbench.commands)
        application.addInitializers(ctx -> ctx.getBeanFactory().registerSingleton("benchCommandCounter",
                (org.springframework.boot.mongodb.autoconfigure.MongoClientSettingsBuilderCustomizer) b -> b.addCommandListener(commands)));
        ConfigurableApplicationContext app = application.run(args.toArray(String[]::new));
        int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
        host = "127.0.0.1:" + port;
        http = new BenchHttp("127.0.0.1", port);
        String bootstrap = app.getEnvironment().getProperty("spring.kafka.bootstrap-servers");
        MongoTemplate mongo = app.getBean(MongoTemplate.class);
        MessageListenerContainer router = app.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer("router-inbound");
        Thread watcher = watchEvents(bootstrap);

        System.out.printf("%nSwitchboard pipeline benchmark (%d cores, max heap %d MB, router concurrency %s)%n"
                        + "load: Telegram 50%% (8 update kinds), VK 20%%, Messenger 20%%, missed calls 10%%; %d customers%n",
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                app.getEnvironment().getProperty("switchboard.router.concurrency"), CUSTOMERS);
        // warm-up: JIT, topic metadata, consumer assignment
        sustained(calls(1000), clients);
        // Then rounds of the backlog path: on 2 cores the JIT compiler still compiles thousands of methods
        // (C2, up to a second each) during the first rounds, which would be measured as the pipeline's cost.
        int warmups = Integer.getInteger("bench.backlog-warmups", 3);
        for (int i = 0; i < warmups; i++) {
            Backlog warm = backlog(router, bootstrap, messages, clients, false);
            System.out.printf("  (warm-up backlog round: %.0f messages/s, CPU per message %.2f ms, JIT compiling %d ms)%n",
                    warm.routerRate(), warm.routerCpuMs(), warm.jitMs());
        }

        List<Call> load = calls(messages);
        long cpuBefore = cpuNanos();
        long[] sustained = sustained(load, clients);
        double pipelineCpuMs = (cpuNanos() - cpuBefore) / 1e6 / messages;
        double pipelineRate = messages * 1000.0 / sustained[1];
        System.out.printf("sustained end to end: %d messages, %d webhook clients: all accepted in %d ms (%.0f/s), "
                        + "all visible in %d ms -> %.0f messages/s%n", messages, clients, sustained[0],
                messages * 1000.0 / sustained[0], sustained[1], pipelineRate);
        System.out.printf("  CPU per message, whole process (webhooks, broker, router, store, SLA, API, load generator): %.2f ms%n",
                pipelineCpuMs);

        // The router on a backlog: the webhooks fill the topics while its listener is stopped.
        Backlog round = backlog(router, bootstrap, messages, clients, true);
        Map<TopicPartition, Long> from = round.from();
        Map<TopicPartition, Long> to = round.to();
        double routerCpuMs = round.routerCpuMs();
        double routerRate = round.routerRate();
        System.out.printf("webhooks alone (router stopped): %d accepted in %d ms -> %.0f/s, CPU per webhook %.2f ms%n",
                messages, round.acceptedMs(), messages * 1000.0 / round.acceptedMs(), round.ingestCpuMs());
        System.out.printf("router alone on that backlog: %d messages visible in %d ms -> %.0f messages/s, CPU per message %.2f ms "
                + "(router, store, SLA tracker, broker; JIT compiling %d ms)%n", messages, round.routedMs(), routerRate, routerCpuMs, round.jitMs());

        long[] latency = fixedRate(rate, seconds);
        System.out.printf("latency at %d messages/s for %d s (%d messages): webhook answered -> visible in the API: "
                        + "p50 %d ms, p99 %d ms, max %d ms; webhook answer p50 %d ms, p99 %d ms%n",
                rate, seconds, latency[0], latency[1], latency[2], latency[3], latency[4], latency[5]);

        long ceilingCpuBefore = cpuNanos();
        double ceiling = ceiling(bootstrap, mongo, from, to);
        double ceilingCpuMs = (cpuNanos() - ceilingCpuBefore) / 1e6 / messages;
        System.out.printf("ceiling: bare consumer reading the backlog's %d records + bulk insert of one document each: "
                + "%.0f messages/s, CPU per document %.2f ms%n", messages, ceiling, ceilingCpuMs);
        System.out.printf("router / ceiling: %.0f%% by wall time, %.0f%% by CPU time; end to end / ceiling: %.0f%%%n%n",
                100 * routerRate / ceiling, 100 * ceilingCpuMs / routerCpuMs, 100 * pipelineRate / ceiling);
        watcher.interrupt();
        http.close();
        app.close();
        // the broker's log and the store's file of one run take gigabytes; -Dbench.keep-data=true keeps them
        if (!Boolean.getBoolean("bench.keep-data")) {
            org.springframework.util.FileSystemUtils.deleteRecursively(data);
        }
    }

    record Backlog(Map<TopicPartition, Long> from, Map<TopicPartition, Long> to, int messages, long acceptedMs, double ingestCpuMs,
                   long routedMs, double routerCpuMs, long jitMs) {
        double routerRate() {
            return messages * 1000.0 / routedMs;
        }
    }

    /** Fills the topics through the webhooks with the router's listener stopped, then times the router draining them. */
    Backlog backlog(MessageListenerContainer router, String bootstrap, int messages, int clients, boolean measured) throws Exception {
        List<Call> backlog = calls(messages);
        Map<TopicPartition, Long> from = endOffsets(bootstrap);
        router.stop();
        // -Dbench.jfr=/tmp/b profiles the measured round (JDK Flight Recorder, "profile" settings):
        // the webhooks in /tmp/b-webhooks.jfr, the router in /tmp/b-router.jfr
        jdk.jfr.Recording recording = profile(measured);
        long ingestCpu = cpuNanos();
        Map<String, Long> ingestThreadsBefore = threadCpu();
        Map<String, Long> ingestGcBefore = gcAndJit();
        long[] accepted = sustainedAccept(backlog, clients);
        double ingestCpuMs = (cpuNanos() - ingestCpu) / 1e6 / messages;
        if (measured && Boolean.getBoolean("bench.threads")) {
            System.out.println("CPU by thread while the webhooks filled the backlog, ms per webhook:"
                    + threadCpuPerMessage(ingestThreadsBefore, ingestGcBefore, ingestCpu, messages));
        }
        Map<TopicPartition, Long> to = endOffsets(bootstrap);
        if (recording != null) {
            recording.dump(Path.of(System.getProperty("bench.jfr") + "-webhooks.jfr"));
            recording.close();
        }
        recording = profile(measured);
        long jit = jitMillis();
        long routerCpu = cpuNanos();
        long start = System.nanoTime();
        commands.reset();
        Map<String, Long> threadsBefore = threadCpu();
        Map<String, Long> gcBefore = gcAndJit();
        router.start();
        awaitVisible(backlog.stream().map(Call::messageId).toList(), Duration.ofMinutes(10));
        long routed = (System.nanoTime() - start) / 1_000_000;
        double routerCpuMs = (cpuNanos() - routerCpu) / 1e6 / messages;
        if (recording != null) {
            recording.dump(Path.of(System.getProperty("bench.jfr") + "-router.jfr"));
            recording.close();
        }
        if (measured && Boolean.getBoolean("bench.threads")) {
            System.out.println("CPU by thread while routing the backlog, ms per message:" + threadCpuPerMessage(threadsBefore, gcBefore, routerCpu, messages));
        }
        if (measured && Boolean.getBoolean("bench.commands")) {
            System.out.println("store commands while routing the backlog, per message: " + commands.perMessage(messages));
        }
        return new Backlog(from, to, messages, accepted[0], ingestCpuMs, routed, routerCpuMs, jitMillis() - jit);
    }

    static jdk.jfr.Recording profile(boolean measured) throws Exception {
        if (!measured || System.getProperty("bench.jfr", "").isBlank()) {
            return null;
        }
        jdk.jfr.Recording recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
        // every compilation with its duration, not only those over 100 ms: the JIT is a large share of each phase
        recording.enable("jdk.Compilation").withThreshold(Duration.ZERO);
        recording.start();
        return recording;
    }

    /** @return {ms until all answered, ms until all visible} */
    long[] sustained(List<Call> calls, int clients) throws Exception {
        long start = System.nanoTime();
        long accepted = sustainedAccept(calls, clients)[0];
        awaitVisible(calls.stream().map(Call::messageId).toList(), Duration.ofMinutes(5));
        return new long[]{accepted, (System.nanoTime() - start) / 1_000_000};
    }

    /** Closed loop: {@code clients} webhooks in flight at a time. @return {ms until all answered} */
    long[] sustainedAccept(List<Call> calls, int clients) throws Exception {
        Semaphore inFlight = new Semaphore(clients);
        CountDownLatch answered = new CountDownLatch(calls.size());
        long start = System.nanoTime();
        for (Call call : calls) {
            inFlight.acquire();
            send(call, r -> {
                inFlight.release();
                answered.countDown();
            });
        }
        answered.await();
        return new long[]{(System.nanoTime() - start) / 1_000_000};
    }

    /** Open-loop load: one webhook every 1/rate s, whatever the answers do. */
    long[] fixedRate(int rate, int seconds) throws Exception {
        List<Call> calls = calls(rate * seconds);
        List<Long> answerMs = java.util.Collections.synchronizedList(new ArrayList<>());
        long interval = 1_000_000_000L / rate;
        CountDownLatch answered = new CountDownLatch(calls.size());
        long start = System.nanoTime();
        for (int i = 0; i < calls.size(); i++) {
            long wait = start + i * interval - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            long sent = System.nanoTime();
            send(calls.get(i), r -> {
                answerMs.add((System.nanoTime() - sent) / 1_000_000);
                answered.countDown();
            });
        }
        answered.await();
        List<String> ids = calls.stream().map(Call::messageId).toList();
        awaitVisible(ids, Duration.ofMinutes(5));
        long[] e2e = ids.stream().mapToLong(id -> Math.max(0, (visibleAt.get(id) - acceptedAt.get(id)) / 1_000_000)).sorted().toArray();
        long[] answers = answerMs.stream().mapToLong(Long::longValue).sorted().toArray();
        return new long[]{calls.size(), pct(e2e, 50), pct(e2e, 99), e2e[e2e.length - 1], pct(answers, 50), pct(answers, 99)};
    }

    /** The backlog's records read by a plain consumer and bulk-inserted as one document each. */
    double ceiling(String bootstrap, MongoTemplate mongo, Map<TopicPartition, Long> from, Map<TopicPartition, Long> to) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        long expected = to.entrySet().stream().mapToLong(e -> e.getValue() - from.getOrDefault(e.getKey(), 0L)).sum();
        long read = 0;
        long start = System.nanoTime();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(to.keySet());
            to.keySet().forEach(tp -> consumer.seek(tp, from.getOrDefault(tp, 0L)));
            while (read < expected) {
                List<Document> docs = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() >= to.get(new TopicPartition(r.topic(), r.partition()))) {
                        continue;
                    }
                    InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                    docs.add(new Document("_id", e.eventId() + ":" + r.offset()).append("conversationId", e.affinityKey())
                            .append("text", e.payload()).append("receivedAt", java.util.Date.from(e.receivedAt())));
                }
                if (!docs.isEmpty()) {
                    mongo.getCollection("benchCeiling").insertMany(docs);
                    read += docs.size();
                }
            }
        }
        return read * 1e9 / (System.nanoTime() - start);
    }

    static final List<Channel> CHANNELS = List.of(Channel.TELEGRAM, Channel.VK, Channel.FACEBOOK, Channel.PHONE);

    Map<TopicPartition, Long> endOffsets(String bootstrap) {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (Channel channel : CHANNELS) {
                c.partitionsFor(Topics.inbound(channel)).forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            }
            return new HashMap<>(c.endOffsets(partitions));
        }
    }

    /** Renders the next {@code count} webhook calls of the mix: Telegram 5, VK 2, Messenger 2, phone 1 in ten. */
    List<Call> calls(int count) throws Exception {
        List<Call> calls = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long n = ++sequence;
            long customer = n % CUSTOMERS;
            calls.add(switch ((int) (n % 10)) {
                case 0, 1 -> vk(n, 300_000_000 + customer);
                case 2, 3 -> facebook(n, 4_000_000_000L + customer);
                case 4 -> phone(n, customer);
                default -> telegram(n, 1_000_000 + customer);
            });
        }
        return calls;
    }

    Call telegram(long n, long chat) {
        tools.jackson.databind.node.ObjectNode update = (tools.jackson.databind.node.ObjectNode)
                ContractJson.mapper().readTree(telegram.get((int) (n % telegram.size())));
        update.put("update_id", n);
        tools.jackson.databind.node.ObjectNode message = (tools.jackson.databind.node.ObjectNode) update.get("message");
        message.put("message_id", n);
        // sent now, as live traffic is: the recorded dates are years old, and would put every SLA clock past its deadline
        message.put("date", System.currentTimeMillis() / 1000);
        ((tools.jackson.databind.node.ObjectNode) message.get("chat")).put("id", chat);
        if (message.has("from")) {
            ((tools.jackson.databind.node.ObjectNode) message.get("from")).put("id", chat);
        }
        byte[] request = BenchHttp.post(host, "/webhooks/telegram/default",
                Map.of("Content-Type", "application/json", "X-Telegram-Bot-Api-Secret-Token", TG_SECRET), update.toString());
        return new Call(request, id("telegram:default:" + chat + ":" + n), "telegram");
    }

    Call vk(long n, long peer) {
        tools.jackson.databind.node.ObjectNode event = (tools.jackson.databind.node.ObjectNode) ContractJson.mapper().readTree(vk);
        event.put("secret", VK_SECRET);
        event.put("event_id", "bench" + n);
        tools.jackson.databind.node.ObjectNode message = (tools.jackson.databind.node.ObjectNode) event.get("object").get("message");
        message.put("id", n).put("from_id", peer).put("peer_id", peer).put("date", System.currentTimeMillis() / 1000)
                .put("text", "my disk quota is full, request " + n);
        byte[] request = BenchHttp.post(host, "/webhooks/vk/default", Map.of("Content-Type", "application/json"), event.toString());
        return new Call(request, id("vk:default:" + peer + ":" + n), "vk");
    }

    Call facebook(long n, long psid) throws Exception {
        String mid = "m_bench" + n;
        String body = facebook.replace("\"USER_ID\"", "\"" + psid + "\"").replace("mid.1457764197618:41d102a3e1ae206a38", mid)
                .replace("1457764197627", Long.toString(System.currentTimeMillis()))
                .replace("hello, world!", "I did not get my sign-up bonus, " + n);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(FB_APP_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String signature = "sha256=" + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        byte[] request = BenchHttp.post(host, "/webhooks/facebook/default",
                Map.of("Content-Type", "application/json", "X-Hub-Signature-256", signature), body);
        return new Call(request, id("facebook:default:" + mid), "facebook");
    }

    /** A missed inbound call, as a PBX posts it in the generic format (docs/channels/phone.md). */
    Call phone(long n, long customer) {
        String callId = "bench-" + n;
        String body = "{\"callId\":\"" + callId + "\",\"event\":\"end\",\"direction\":\"inbound\",\"from\":\"+7912"
                + String.format("%07d", customer) + "\",\"to\":\"74957770011\",\"startedAt\":\"" + Instant.now()
                + "\",\"disposition\":\"no-answer\"}";
        byte[] request = BenchHttp.post(host, "/webhooks/phone/default/generic",
                Map.of("Content-Type", "application/json", "Authorization", "Bearer " + PHONE_TOKEN), body);
        return new Call(request, id("phone:default:generic:" + callId), "phone");
    }

    /** The message id the router derives from a channel's message key (InboxWriter.messageIdFor). */
    static String id(String key) {
        return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
    }

    void send(Call call, java.util.function.IntConsumer done) {
        http.send(call.request(), status -> {
            if (status / 100 == 2) {
                acceptedAt.put(call.messageId(), System.nanoTime());
            } else {
                System.err.println(call.channel() + " webhook failed: " + (status < 0 ? "no answer" : status));
            }
            done.accept(status);
        });
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

    /** CPU time of each live thread so far, by thread name with its numbers blanked out, and its id. */
    static Map<String, Long> threadCpu() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<String, Long> cpu = new HashMap<>();
        for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            long ns = t == null ? -1 : mx.getThreadCpuTime(t.getThreadId());
            if (ns > 0) {
                cpu.merge(t.getThreadName().replaceAll("\\d+", "#") + "@" + t.getThreadId(), ns, Long::sum);
            }
        }
        return cpu;
    }

    /** Collections and pause milliseconds of each collector, and the JIT's compiling milliseconds, so far. */
    static Map<String, Long> gcAndJit() {
        Map<String, Long> totals = new java.util.TreeMap<>();
        for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            totals.put("GC " + gc.getName() + " collections", gc.getCollectionCount());
            totals.put("GC " + gc.getName() + " pause ms", gc.getCollectionTime());
        }
        totals.put("JIT compiling ms", jitMillis());
        return totals;
    }

    static String threadCpuPerMessage(Map<String, Long> before, Map<String, Long> gcBefore, long processCpuBefore, int messages) {
        gcAndJit().forEach((k, v) -> System.out.printf("  %s: %d%n", k, v - gcBefore.getOrDefault(k, 0L)));
        Map<String, Long> byName = new HashMap<>();
        threadCpu().forEach((k, v) -> byName.merge(k.substring(0, k.lastIndexOf('@')), v - before.getOrDefault(k, 0L), Long::sum));
        long javaThreads = byName.values().stream().mapToLong(Long::longValue).sum();
        byName.put("(not Java threads: GC, JIT compiler, and threads that ended)", cpuNanos() - processCpuBefore - javaThreads);
        StringBuilder out = new StringBuilder();
        byName.entrySet().stream().filter(e -> e.getValue() > 1_000_000).sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> out.append(String.format("%n    %-60s %.3f", e.getKey(), e.getValue() / 1e6 / messages)));
        return out.toString();
    }

    /** Counts the store's commands and their time (sent to answered) by name, collection and the shape of their filter. */
    static final class CommandCounter implements com.mongodb.event.CommandListener {
        private final Map<String, java.util.concurrent.atomic.LongAdder> counts = new ConcurrentHashMap<>();
        private final Map<String, java.util.concurrent.atomic.LongAdder> nanos = new ConcurrentHashMap<>();
        private final Map<Integer, String> inFlight = new ConcurrentHashMap<>();

        @Override
        public void commandStarted(com.mongodb.event.CommandStartedEvent e) {
            org.bson.BsonValue target = e.getCommand().get(e.getCommandName());
            String collection = target != null && target.isString() ? "." + target.asString().getValue() : "";
            org.bson.BsonValue filter = e.getCommand().get("filter");
            if (filter == null && e.getCommand().get("query") != null) {
                filter = e.getCommand().get("query");
            }
            String key = e.getCommandName() + collection + (filter != null && filter.isDocument() ? shape(filter.asDocument()) : "");
            counts.computeIfAbsent(key, k -> new java.util.concurrent.atomic.LongAdder()).increment();
            inFlight.put(e.getRequestId(), key);
        }

        @Override
        public void commandSucceeded(com.mongodb.event.CommandSucceededEvent e) {
            done(e.getRequestId(), e.getElapsedTime(java.util.concurrent.TimeUnit.NANOSECONDS));
        }

        @Override
        public void commandFailed(com.mongodb.event.CommandFailedEvent e) {
            done(e.getRequestId(), e.getElapsedTime(java.util.concurrent.TimeUnit.NANOSECONDS));
        }

        private void done(int requestId, long elapsed) {
            String key = inFlight.remove(requestId);
            if (key != null) {
                nanos.computeIfAbsent(key, k -> new java.util.concurrent.atomic.LongAdder()).add(elapsed);
            }
        }

        /** The filter's field names and operators, no values: {@code {_id:$in}}. */
        static String shape(org.bson.BsonDocument filter) {
            StringBuilder out = new StringBuilder("{");
            filter.forEach((k, v) -> {
                if (out.length() > 1) {
                    out.append(',');
                }
                out.append(k);
                if (v.isDocument() && !v.asDocument().isEmpty() && v.asDocument().getFirstKey().startsWith("$")) {
                    out.append(':').append(String.join("", v.asDocument().keySet()));
                }
            });
            return out.append('}').toString();
        }

        void reset() {
            counts.clear();
            nanos.clear();
        }

        String perMessage(int messages) {
            StringBuilder out = new StringBuilder();
            double total = counts.values().stream().mapToLong(java.util.concurrent.atomic.LongAdder::sum).sum();
            double totalMs = nanos.values().stream().mapToLong(java.util.concurrent.atomic.LongAdder::sum).sum() / 1e6;
            out.append(String.format("%.2f, answered in %.3f ms per message in all (count, ms per message)", total / messages, totalMs / messages));
            counts.entrySet().stream().sorted((a, b) -> Long.compare(nanosOf(b.getKey()), nanosOf(a.getKey()))).limit(25)
                    .forEach(en -> out.append(String.format("%n    %-70s %7.3f %7.3f", en.getKey(), en.getValue().sum() / (double) messages,
                            nanosOf(en.getKey()) / 1e6 / messages)));
            return out.toString();
        }

        private long nanosOf(String key) {
            java.util.concurrent.atomic.LongAdder n = nanos.get(key);
            return n == null ? 0 : n.sum();
        }
    }

    /** Time the JIT compiler threads spent compiling so far. */
    static long jitMillis() {
        return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
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
        try (InputStream in = PipelineBenchmark.class.getResourceAsStream("/fixtures/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
