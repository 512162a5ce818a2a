package io.switchboard.ui;

import com.sun.net.httpserver.HttpServer;
import io.switchboard.SwitchboardApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole product, started once for the UI and security tests of this package (one broker and
 * store for all of them, under a temporary INBOX_DATA_DIR), with a local Bot API stand-in, and
 * plain HTTP helpers that talk to it as outside clients do.
 */
final class RunningProduct {

    static final String ADMIN_PASSWORD = "ui-admin-password";
    static final String SECRET = "ui-telegram-secret";
    static final String METRICS_TOKEN = "ui-metrics-token";
    static final String PHONE_TOKEN = "ui-phone-token";
    static final JsonMapper JSON = JsonMapper.builder().build();

    private static RunningProduct instance;

    final ConfigurableApplicationContext app;
    final String base;
    final List<String> telegramCalls = new CopyOnWriteArrayList<>();
    private final HttpServer telegram;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static synchronized RunningProduct get() {
        if (instance == null) {
            instance = new RunningProduct();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                instance.app.close();
                instance.telegram.stop(0);
            }));
        }
        return instance;
    }

    private RunningProduct() {
        AtomicInteger nextId = new AtomicInteger(9000);
        try {
            telegram = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            Path data = Files.createTempDirectory("switchboard-ui-test");
            data.toFile().deleteOnExit();
            telegram.createContext("/", exchange -> {
                telegramCalls.add(exchange.getRequestURI().getPath() + " "
                        + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                byte[] out = ("{\"ok\":true,\"result\":{\"message_id\":" + nextId.incrementAndGet() + "}}")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, out.length);
                exchange.getResponseBody().write(out);
                exchange.close();
            });
            telegram.start();
            app = SwitchboardApplication.application().run(
                    "--server.port=0",
                    "--INBOX_DATA_DIR=" + data,
                    "--INBOX_ADMIN_PASSWORD=" + ADMIN_PASSWORD,
                    "--INBOX_METRICS_TOKEN=" + METRICS_TOKEN,
                    "--PHONE_WEBHOOK_TOKEN=" + PHONE_TOKEN,
                    "--INBOX_INSTANCE_ID=ui",
                    "--TELEGRAM_BOT_TOKEN=42:ui-token",
                    "--TELEGRAM_WEBHOOK_SECRET=" + SECRET,
                    "--TELEGRAM_API_URL=http://127.0.0.1:" + telegram.getAddress().getPort());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
        await(() -> {
            HttpResponse<String> r = send("GET", "/actuator/health", null, null);
            return r.statusCode() == 200 && r.body().contains("\"status\":\"UP\"");
        }, Duration.ofSeconds(60));
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<String> send(String method, String path, String body, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    JsonNode admin(String method, String path, String body) {
        HttpResponse<String> r = send(method, path, body, basic("admin", ADMIN_PASSWORD));
        if (r.statusCode() >= 300) {
            throw new AssertionError(method + " " + path + " -> " + r.statusCode() + " " + r.body());
        }
        return r.body().isEmpty() ? null : JSON.readTree(r.body());
    }

    /** Creates a user (once) with the given roles. */
    void user(String name, String password, String... roles) {
        StringBuilder json = new StringBuilder("{\"username\":\"" + name + "\",\"password\":\"" + password + "\",\"roles\":[");
        for (int i = 0; i < roles.length; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(roles[i]).append('"');
        }
        HttpResponse<String> r = send("POST", "/api/admin/users", json.append("]}").toString(), basic("admin", ADMIN_PASSWORD));
        if (r.statusCode() != 201 && r.statusCode() != 409) {
            throw new AssertionError("user " + name + ": " + r.statusCode() + " " + r.body());
        }
    }

    /** A private Telegram message from chat {@code chatId}, written {@code ago} before now. */
    HttpResponse<String> telegramMessage(int updateId, long chatId, String firstName, String text, Duration ago) {
        String json = fixture("telegram/zammad_private_text.json")
                .replaceFirst("\"update_id\"\\s*:\\s*\\d+", "\"update_id\":" + updateId)
                .replace("\"message_id\":5", "\"message_id\":" + updateId)
                .replace("111111", String.valueOf(chatId))
                .replace("Test Firstname", firstName)
                .replace("Hello, I need your Help", text.replace("\"", "\\\""));
        json = json.replaceFirst("\"date\"\\s*:\\s*\\d+", "\"date\":" + Instant.now().minus(ago).getEpochSecond());
        return send("POST", "/webhooks/telegram/default", json, null, "X-Telegram-Bot-Api-Secret-Token", SECRET);
    }

    HttpResponse<String> send(String method, String path, String body, String authorization, String header, String value) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
                .header(header, value);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String fixture(String path) {
        try (InputStream in = RunningProduct.class.getResourceAsStream("/fixtures/" + path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface Probe {
        boolean done() throws Exception;
    }

    static void await(Probe probe, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (probe.done()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("not reached within " + timeout, last);
    }
}
