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
        try (InputStream in = StandaloneCrashRecoveryTest.class.getResourceAsStream("/fixtures/telegram/zammad_private_text.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
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
}
