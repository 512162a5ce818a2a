package io.switchboard;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local Bot API stand-in: sendMessage answers with increasing message ids and is recorded; a chat
 * can be made to refuse with a Bot API error ({@link #refuse}).
 */
final class FakeTelegramApi implements AutoCloseable {

    /** @param raw the body's bytes (multipart uploads: sendPhoto, sendDocument); {@code body} is them as UTF-8 */
    record Call(String path, String body, byte[] raw) {
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextId = new AtomicInteger(9000);
    private final java.util.Map<String, String> refusals = new java.util.concurrent.ConcurrentHashMap<>();
    private final HttpServer server;

    FakeTelegramApi() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            String body = new String(raw, StandardCharsets.UTF_8);
            calls.add(new Call(exchange.getRequestURI().getPath(), body, raw));
            String refusal = refusals.entrySet().stream().filter(r -> body.contains("\"chat_id\":\"" + r.getKey() + "\""))
                    .map(java.util.Map.Entry::getValue).findFirst().orElse(null);
            int status = refusal == null ? 200 : Integer.parseInt(refusal.substring(0, 3));
            // the Bot API's error shape: https://core.telegram.org/bots/api#making-requests
            byte[] out = (refusal == null
                    ? "{\"ok\":true,\"result\":{\"message_id\":" + nextId.incrementAndGet() + "}}"
                    : "{\"ok\":false,\"error_code\":" + status + ",\"description\":\"" + refusal.substring(4) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
    }

    /** Sends to this chat are answered with this HTTP status and Bot API description from now on. */
    void refuse(long chatId, int status, String description) {
        refusals.put(Long.toString(chatId), status + " " + description);
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
