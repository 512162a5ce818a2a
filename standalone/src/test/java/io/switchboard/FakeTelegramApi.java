package io.switchboard;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A local Bot API stand-in: sendMessage answers with increasing message ids and is recorded. */
final class FakeTelegramApi implements AutoCloseable {

    /** @param raw the body's bytes (multipart uploads: sendPhoto, sendDocument); {@code body} is them as UTF-8 */
    record Call(String path, String body, byte[] raw) {
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextId = new AtomicInteger(9000);
    private final HttpServer server;

    FakeTelegramApi() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            calls.add(new Call(exchange.getRequestURI().getPath(), new String(raw, StandardCharsets.UTF_8), raw));
            byte[] out = ("{\"ok\":true,\"result\":{\"message_id\":" + nextId.incrementAndGet() + "}}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
