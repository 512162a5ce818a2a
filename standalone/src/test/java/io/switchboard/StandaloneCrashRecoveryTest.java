package io.switchboard;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The promise behind every 200: the standalone product runs as a separate JVM, is killed with
 * SIGKILL right after a webhook was acknowledged, restarted on the same data directory, and the
 * message is in the inbox, once.
 */
class StandaloneCrashRecoveryTest {

    static final String PASSWORD = "crash-admin-password";
    static final String SECRET = "crash-secret";

    @TempDir
    Path data;
    Process process;

    @AfterEach
    void kill() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    Process start(int port) throws IOException {
        return start(port, Map.of());
    }

    Process start(int port, Map<String, String> extraEnv) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                SwitchboardApplication.class.getName());
        Map<String, String> env = pb.environment();
        env.put("SERVER_PORT", Integer.toString(port));
        env.put("INBOX_DATA_DIR", data.resolve("data").toString());
        env.put("INBOX_ADMIN_PASSWORD", PASSWORD);
        env.put("INBOX_INSTANCE_ID", "crash-test");
        env.put("TELEGRAM_BOT_TOKEN", "1:crash");
        env.put("TELEGRAM_WEBHOOK_SECRET", SECRET);
        env.put("TELEGRAM_API_URL", "http://127.0.0.1:9");
        env.putAll(extraEnv);
        pb.redirectErrorStream(true);
        pb.redirectOutput(data.resolve("app.log").toFile());
        return pb.start();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String update(int n) throws IOException {
        return update(n, 111111);
    }

    static String update(int n, long chat) throws IOException {
        try (InputStream in = StandaloneCrashRecoveryTest.class.getResourceAsStream("/fixtures/telegram/zammad_private_text.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("\"id\":111111", "\"id\":" + chat)
                    .replace("\"update_id\":5", "\"update_id\":" + (1000 + n))
                    .replace("\"message_id\":5", "\"message_id\":" + (1000 + n))
                    .replace("Hello, I need your Help", "crash test message " + n);
        }
    }

    List<String> texts(Http http) throws Exception {
        List<String> texts = new ArrayList<>();
        for (JsonNode item : http.api("GET", "/api/conversations", null).path("items")) {
            for (JsonNode m : http.api("GET", "/api/conversations/" + item.path("id").asString(), null).path("messages")) {
                texts.add(m.path("text").asString());
            }
        }
        return texts;
    }

    @Test
    void aKill9RightAfterTheWebhookAnsweredLosesNothing_andRedeliveryAfterRestartAddsNothing() throws Exception {
        int port = freePort();
        process = start(port);
        Http http = new Http("http://127.0.0.1:" + port, "admin", PASSWORD);
        http.await(http::up, up -> up, Duration.ofSeconds(90));

        int acknowledged = 0;
        for (int n = 1; n <= 20; n++) {
            if (http.send("POST", "/webhooks/telegram/default", update(n), false,
                    "X-Telegram-Bot-Api-Secret-Token", SECRET).statusCode() == 200) {
                acknowledged++;
            }
        }
        assertThat(acknowledged).isEqualTo(20);
        process.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no flush

        process = start(port);
        http.await(http::up, up -> up, Duration.ofSeconds(90));
        // Telegram did not get our answers for nothing: it may still resend some updates after the restart
        for (int n = 15; n <= 20; n++) {
            http.send("POST", "/webhooks/telegram/default", update(n), false, "X-Telegram-Bot-Api-Secret-Token", SECRET);
        }
        // One chat is one partition, in order: once this sentinel is visible, every resend before it was processed.
        http.send("POST", "/webhooks/telegram/default", update(21), false, "X-Telegram-Bot-Api-Secret-Token", SECRET);
        List<String> texts = http.await(() -> texts(http), t -> t.contains("crash test message 21"), Duration.ofSeconds(30));
        List<String> expected = new ArrayList<>();
        for (int n = 1; n <= 21; n++) {
            expected.add("crash test message " + n);
        }
        assertThat(texts).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(Files.readString(data.resolve("app.log"))).doesNotContain("crash test message");
    }

    /**
     * The router is killed while it works through a backlog: 1,000 acknowledged webhooks over 50 chats
     * wait in Kafka while the router is paused ({@code SWITCHBOARD_ROUTER_AUTO_STARTUP=false}); the product
     * is restarted with the router on and killed with SIGKILL as soon as its message counter moves, so
     * the kill lands with batches read but not all committed (the counter read just before the kill
     * shows it). After the next restart every message is there exactly once.
     */
    @Test
    void aKill9InTheMiddleOfTheRoutersBacklogLeavesExactlyOneCopyOfEveryMessage() throws Exception {
        int port = freePort();
        process = start(port, Map.of("SWITCHBOARD_ROUTER_AUTO_STARTUP", "false"));
        Http http = new Http("http://127.0.0.1:" + port, "admin", PASSWORD);
        http.await(http::up, up -> up, Duration.ofSeconds(90));

        int total = 1000;
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(8);
        java.util.concurrent.atomic.AtomicInteger acknowledged = new java.util.concurrent.atomic.AtomicInteger();
        List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
        for (int n = 1; n <= total; n++) {
            int i = n;
            sends.add(clients.submit(() -> {
                if (http.send("POST", "/webhooks/telegram/default", update(i, 500_000 + i % 50), false,
                        "X-Telegram-Bot-Api-Secret-Token", SECRET).statusCode() == 200) {
                    acknowledged.incrementAndGet();
                }
                return null;
            }));
        }
        for (java.util.concurrent.Future<?> f : sends) {
            f.get();
        }
        clients.shutdown();
        assertThat(acknowledged.get()).isEqualTo(total);
        assertThat(storedMessages(http)).as("the paused router stored nothing").isZero();
        process.destroyForcibly().waitFor();

        process = start(port);
        long storedBeforeTheKill = 0;
        for (long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
             storedBeforeTheKill == 0 && System.nanoTime() < deadline; ) {
            try {
                storedBeforeTheKill = storedMessages(http);
            } catch (IOException notListeningYet) {
                // the restarted product does not answer yet
            }
            if (storedBeforeTheKill == 0) {
                Thread.sleep(10);
            }
        }
        process.destroyForcibly().waitFor();
        assertThat(storedBeforeTheKill).as("the router was working through the backlog").isPositive().isLessThan(total);

        process = start(port);
        http.await(http::up, up -> up, Duration.ofSeconds(90));
        // read everything only now and then: the reads share the CPU with the router catching up
        List<String> texts = allTexts(http);
        for (long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
             texts.size() < total && System.nanoTime() < deadline; texts = allTexts(http)) {
            Thread.sleep(3000);
        }
        List<String> expected = new ArrayList<>();
        for (int n = 1; n <= total; n++) {
            expected.add("crash test message " + n);
        }
        assertThat(texts).containsExactlyInAnyOrderElementsOf(expected);
    }

    /** Inbound messages the router stored so far (its Prometheus counter, one scrape). */
    static long storedMessages(Http http) throws Exception {
        double stored = 0;
        for (String line : http.send("GET", "/actuator/prometheus", null, true).body().split("\n")) {
            if (line.startsWith("switchboard_router_messages_total{") && line.contains("direction=\"inbound\"")) {
                stored += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) stored;
    }

    /** Every message text of every conversation, following the queue's cursor. */
    List<String> allTexts(Http http) throws Exception {
        List<String> texts = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.api("GET", "/api/conversations?limit=100" + (cursor == null ? "" : "&cursor=" + cursor), null);
            for (JsonNode item : page.path("items")) {
                for (JsonNode m : http.api("GET", "/api/conversations/" + item.path("id").asString(), null).path("messages")) {
                    texts.add(m.path("text").asString());
                }
            }
            cursor = page.path("nextCursor").isNull() || page.path("nextCursor").isMissingNode() ? null
                    : java.net.URLEncoder.encode(page.path("nextCursor").asString(), StandardCharsets.UTF_8);
        } while (cursor != null);
        return texts;
    }
}
