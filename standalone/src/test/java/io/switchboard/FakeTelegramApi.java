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
 * can be made to refuse with a Bot API error ({@link #refuse}); getFile and the file endpoint serve
 * the customers' files put in {@link #files} (by file_id).
 */
final class FakeTelegramApi implements AutoCloseable {

    /** @param raw the body's bytes (multipart uploads: sendPhoto, sendDocument); {@code body} is them as UTF-8 */
    record Call(String path, String body, byte[] raw) {
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    /** Files customers sent, by file_id: getFile gives {@code file_path} {@code files/<file_id>}. */
    final java.util.Map<String, byte[]> files = new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.util.regex.Pattern FILE_ID = java.util.regex.Pattern.compile("\"file_id\"\\s*:\\s*\"([^\"]+)\"");
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
            String path = exchange.getRequestURI().getPath();
            int status = 200;
            byte[] out;
            java.util.regex.Matcher fileId = FILE_ID.matcher(body);
            String refusal = refusals.entrySet().stream().filter(r -> body.contains("\"chat_id\":\"" + r.getKey() + "\""))
                    .map(java.util.Map.Entry::getValue).findFirst().orElse(null);
            if (path.endsWith("/getFile")) {
                String id = fileId.find() ? fileId.group(1) : "";
                byte[] file = files.get(id);
                status = file == null ? 400 : 200;
                out = (file == null ? "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: invalid file_id\"}"
                        : "{\"ok\":true,\"result\":{\"file_id\":\"" + id + "\",\"file_size\":" + file.length
                        + ",\"file_path\":\"files/" + id + "\"}}").getBytes(StandardCharsets.UTF_8);
            } else if (path.contains("/file/bot")) {
                byte[] file = files.get(path.substring(path.lastIndexOf('/') + 1));
                status = file == null ? 404 : 200;
                out = file == null ? "{}".getBytes(StandardCharsets.UTF_8) : file;
            } else if (refusal != null) {
                // the Bot API's error shape: https://core.telegram.org/bots/api#making-requests
                status = Integer.parseInt(refusal.substring(0, 3));
                out = ("{\"ok\":false,\"error_code\":" + status + ",\"description\":\"" + refusal.substring(4) + "\"}")
                        .getBytes(StandardCharsets.UTF_8);
            } else {
                out = ("{\"ok\":true,\"result\":{\"message_id\":" + nextId.incrementAndGet() + "}}").getBytes(StandardCharsets.UTF_8);
            }
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
