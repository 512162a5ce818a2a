package io.switchboard.channel.social;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A local HTTP server standing in for the VK API or the Graph API: records calls, answers with a scripted responder. */
public final class FakeApi implements AutoCloseable {

    public record Call(String method, String path, String query, String body) {
    }

    public record Reply(int status, String body) {
    }

    private final HttpServer server;
    public final List<Call> calls = new CopyOnWriteArrayList<>();
    public final List<Call> routeCalls = new CopyOnWriteArrayList<>();
    public volatile Function<Call, Reply> responder;
    /** Paths answered by their own function whatever the responder (e.g. a background long poll). */
    public final java.util.Map<String, Function<Call, Reply>> routes = new java.util.concurrent.ConcurrentHashMap<>();
    private final Function<Call, Reply> initial;

    public FakeApi(Function<Call, Reply> responder) {
        this.responder = responder;
        this.initial = responder;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            Call call = new Call(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), exchange.getRequestURI().getRawQuery(),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            Function<Call, Reply> route = routes.get(call.path());
            (route == null ? calls : routeCalls).add(call);
            Reply reply = route != null ? route.apply(call) : this.responder.apply(call);
            byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.status(), out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    public void reset() {
        calls.clear();
        responder = initial;
    }

    public List<Call> calls(String path) {
        return calls.stream().filter(c -> c.path().equals(path)).toList();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
