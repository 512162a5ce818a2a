package io.switchboard.ui;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live stream as a script sees it: Server-Sent Events fed from the conversation events topic,
 * status and assignment changes, collision hints from presence heartbeats, and internal notes that
 * reach the stream but never the channel and never count as a response.
 */
class LiveStreamTest {

    static RunningProduct product;

    @BeforeAll
    static void start() {
        product = RunningProduct.get();
        product.user("stream-agent", "stream-password-1", "agent");
    }

    @Test
    void newMessagesNotesAndPresenceArriveOnTheStream_andNotesStayInside() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(product.base + "/api/stream"))
                .header("Authorization", RunningProduct.basic("stream-agent", "stream-password-1"))
                .header("Accept", "text/event-stream").build();
        CompletableFuture<HttpResponse<Stream<String>>> stream = HttpClient.newHttpClient()
                .sendAsync(request, HttpResponse.BodyHandlers.ofLines());
        HttpResponse<Stream<String>> response = stream.get();
        assertThat(response.statusCode()).isEqualTo(200);
        Thread reader = new Thread(() -> response.body().forEach(lines::add), "sse-reader");
        reader.setDaemon(true);
        reader.start();
        RunningProduct.await(() -> lines.contains("event:ready"), Duration.ofSeconds(10));

        assertThat(product.telegramMessage(8301, 5301, "Stream", "stream: hello there", Duration.ZERO).statusCode()).isEqualTo(200);
        RunningProduct.await(() -> lines.stream().anyMatch(l -> l.startsWith("data:") && l.contains("\"message.added\"")),
                Duration.ofSeconds(15));
        String id = product.admin("GET", "/api/conversations?q=stream%3A%20hello", null).path("items").get(0).path("id").asString();

        HttpResponse<String> note = product.send("POST", "/api/conversations/" + id + "/notes",
                "{\"text\":\"@stream-agent have a look, @nobody-here\"}", RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD));
        assertThat(note.statusCode()).isEqualTo(201);
        assertThat(note.body()).contains("\"mentions\":[\"stream-agent\"]");
        RunningProduct.await(() -> lines.stream().anyMatch(l -> l.contains("\"note.added\"") && l.contains(id)), Duration.ofSeconds(15));

        var detail = product.admin("GET", "/api/conversations/" + id, null);
        var last = detail.path("messages").get(detail.path("messages").size() - 1);
        assertThat(last.path("kind").asString()).isEqualTo("note");
        assertThat(last.path("deliveryStatus").isNull()).isTrue();
        assertThat(detail.path("sla").path("firstResponse").path("stoppedAt").isNull()).as("a note is no response").isTrue();
        assertThat(product.telegramCalls).noneMatch(c -> c.contains("have a look"));

        // status and assignment changes reach the stream as conversation.updated, naming what changed
        String admin = RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD);
        assertThat(product.send("PATCH", "/api/conversations/" + id, "{\"status\":\"pending\"}", admin).statusCode()).isEqualTo(200);
        RunningProduct.await(() -> updated(lines, id, "\"status\":\"pending\""), Duration.ofSeconds(15));
        assertThat(product.send("PATCH", "/api/conversations/" + id, "{\"assignee\":\"stream-agent\"}", admin).statusCode())
                .isEqualTo(200);
        RunningProduct.await(() -> updated(lines, id, "\"assignee\":\"stream-agent\""), Duration.ofSeconds(15));
        assertThat(product.send("PATCH", "/api/conversations/" + id, "{\"assignee\":null,\"status\":\"open\"}", admin).statusCode())
                .isEqualTo(200);
        RunningProduct.await(() -> updated(lines, id, "\"assignee\":\"\"") && updated(lines, id, "\"status\":\"open\""),
                Duration.ofSeconds(15));

        HttpResponse<String> typing = product.send("POST", "/api/conversations/" + id + "/presence", "{\"state\":\"typing\"}",
                RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD));
        assertThat(typing.statusCode()).isEqualTo(200);
        RunningProduct.await(() -> lines.stream().anyMatch(l -> l.contains(id) && l.contains("\"user\":\"admin\"")
                && l.contains("\"state\":\"typing\"")), Duration.ofSeconds(10));
        assertThat(product.send("POST", "/api/conversations/" + id + "/presence", "{\"state\":\"dancing\"}",
                RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD)).statusCode()).isEqualTo(400);

        var suggestion = product.send("GET", "/api/conversations/" + id + "/suggestion", null,
                RunningProduct.basic("stream-agent", "stream-password-1"));
        assertThat(suggestion.statusCode()).isEqualTo(204); // "hello there" matches no FAQ topic
        var canned = product.send("GET", "/api/canned?lang=ru", null, RunningProduct.basic("stream-agent", "stream-password-1"));
        assertThat(canned.body()).contains("seed:lost-2fa:ru").contains("seed:missing-emails:ru").doesNotContain(":en\"");
        response.body().close();
    }

    /** A conversation.updated event of this conversation whose data holds {@code field} (a JSON "name":value). */
    private static boolean updated(List<String> lines, String conversationId, String field) {
        return lines.stream().anyMatch(l -> l.startsWith("data:") && l.contains("\"conversation.updated\"")
                && l.contains(conversationId) && l.contains(field));
    }
}
