package io.switchboard.channel.telegram;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local HTTP server standing in for the Bot API: records calls (with the parts of multipart
 * uploads: field, file name, type and bytes), answers with a scripted responder.
 */
final class FakeBotApi implements AutoCloseable {

    /** One part of a multipart/form-data body; {@code fileName} is null for plain fields. */
    record Part(String name, String fileName, String contentType, byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** @param body the body as UTF-8 text; {@code parts} is empty unless the call was multipart */
    record Call(String path, String body, String contentType, byte[] raw, List<Part> parts) {

        Call(String path, String body) {
            this(path, body, null, body.getBytes(StandardCharsets.UTF_8), List.of());
        }

        Part part(String name) {
            return parts.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
        }

        String method() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    record Reply(int status, String body, byte[] bytes) {
        Reply(int status, String body) {
            this(status, body, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;
    final List<Call> calls = new CopyOnWriteArrayList<>();
    /** Every call since the start, never cleared (calls made while a context starts, e.g. setWebhook). */
    final List<Call> all = new CopyOnWriteArrayList<>();
    volatile Function<Call, Reply> responder = c -> new Reply(200, "{\"ok\":true,\"result\":{\"message_id\":1}}");

    FakeBotApi() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            Call call = new Call(exchange.getRequestURI().getPath(), new String(raw, StandardCharsets.UTF_8), type, raw,
                    parse(type, raw));
            calls.add(call);
            all.add(call);
            Reply reply = responder.apply(call);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.status(), reply.bytes().length == 0 ? -1 : reply.bytes().length);
            exchange.getResponseBody().write(reply.bytes());
            exchange.close();
        });
        server.start();
    }

    private static final Pattern BOUNDARY = Pattern.compile("boundary=\"?([^\";]+)\"?");
    private static final Pattern NAME = Pattern.compile("\\bname=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("\\bfilename=\"([^\"]*)\"");

    /** Splits a multipart/form-data body at its boundary (RFC 7578); headers are read as UTF-8. */
    static List<Part> parse(String contentType, byte[] body) {
        if (contentType == null || !contentType.toLowerCase().startsWith("multipart/form-data")) {
            return List.of();
        }
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            return List.of();
        }
        byte[] delimiter = ("--" + m.group(1)).getBytes(StandardCharsets.US_ASCII);
        List<Part> parts = new ArrayList<>();
        int at = indexOf(body, delimiter, 0);
        while (at >= 0) {
            int start = at + delimiter.length;
            if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') {
                break; // the closing delimiter
            }
            start += 2; // CRLF after the delimiter
            int next = indexOf(body, delimiter, start);
            if (next < 0) {
                break;
            }
            byte[] part = Arrays.copyOfRange(body, start, next - 2); // without the CRLF before the next delimiter
            int split = indexOf(part, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
            String headers = new String(part, 0, split, StandardCharsets.UTF_8);
            byte[] content = Arrays.copyOfRange(part, split + 4, part.length);
            String partType = null;
            for (String line : headers.split("\r\n")) {
                if (line.toLowerCase().startsWith("content-type:")) {
                    partType = line.substring("content-type:".length()).trim();
                }
            }
            Matcher name = NAME.matcher(headers);
            Matcher file = FILENAME.matcher(headers);
            parts.add(new Part(name.find() ? name.group(1) : null, file.find() ? file.group(1) : null, partType, content));
            at = next;
        }
        return parts;
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
