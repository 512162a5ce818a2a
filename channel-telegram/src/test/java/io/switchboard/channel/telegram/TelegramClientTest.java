package io.switchboard.channel.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.OutboundCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.web.client.RestClient;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Bot API's error bodies from fixtures/telegram (https://core.telegram.org/bots/api#making-requests:
 * {@code ok}, {@code error_code}, {@code description}, optional {@code parameters.retry_after}) served
 * by a local stand-in and read by the real client, and what the sender makes of them.
 */
class TelegramClientTest {

    final FakeBotApi api = new FakeBotApi();
    final TelegramClient client = new TelegramClient(RestClient.builder());
    final TelegramProperties.Account bot = new TelegramProperties.Account("42:client-test-token", null, URI.create(api.url()),
            "polling", null, null);

    @AfterEach
    void stop() {
        api.close();
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = TelegramClientTest.class.getResourceAsStream("/fixtures/telegram/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    TelegramClient.Result answered(int status, String body) {
        api.responder = c -> new FakeBotApi.Reply(status, body);
        return client.call(bot, "getUpdates", Map.of("timeout", 0));
    }

    @Test
    void a429WithParametersGivesItsRetryAfter() throws Exception {
        TelegramClient.Result r = answered(429, fixture("error_429_retry_after_parameters.json"));
        assertThat(r.ok()).isFalse();
        assertThat(r.httpStatus()).isEqualTo(429);
        assertThat(r.errorCode()).isEqualTo(429);
        assertThat(r.description()).isEqualTo("Too Many Requests: retry after 34");
        assertThat(r.retryAfter()).isEqualTo(34);
        assertThat(r.rateLimited()).isTrue();
        assertThat(r.transientFailure()).isTrue();
    }

    @Test
    void a429WithoutParametersTakesRetryAfterFromItsDescription() throws Exception {
        TelegramClient.Result r = answered(429, fixture("error_429_too_many_requests_no_parameters.json"));
        assertThat(r.errorCode()).isEqualTo(429);
        assertThat(r.description()).isEqualTo("Too Many Requests: retry after 3");
        assertThat(r.retryAfter()).isEqualTo(3);
        assertThat(r.rateLimited()).isTrue();
        assertThat(r.transientFailure()).isTrue();
    }

    @Test
    void a409IsAPermanentFailureWithTelegramsDescriptionAndNoRetryAfter() throws Exception {
        TelegramClient.Result r = answered(409, fixture("error_409_conflict_getupdates.json"));
        assertThat(r.ok()).isFalse();
        assertThat(r.httpStatus()).isEqualTo(409);
        assertThat(r.errorCode()).isEqualTo(409);
        assertThat(r.description()).isEqualTo("Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
        assertThat(r.retryAfter()).isNull();
        assertThat(r.rateLimited()).isFalse();
        assertThat(r.transientFailure()).isFalse();
    }

    @Test
    void aGetUpdatesAnswerIsOkWithItsUpdates_andAnErrorCodeInA200BodyStillCounts() throws Exception {
        TelegramClient.Result r = answered(200, fixture("telegrambots_getupdates_envelope_write_access_allowed.json"));
        assertThat(r.ok()).isTrue();
        assertThat(r.result().isArray()).isTrue();
        assertThat(r.result().get(0).path("update_id").asLong()).isEqualTo(329421221L);
        // the body says rate limited even though the status does not: the client believes the body
        TelegramClient.Result in200 = answered(200, fixture("error_429_retry_after_parameters.json"));
        assertThat(in200.ok()).isFalse();
        assertThat(in200.rateLimited()).isTrue();
        assertThat(in200.retryAfter()).isEqualTo(34);
    }

    @Test
    void anAnswerWithoutJsonIsAFailureNamingTheStatus_andTheUrlWithTheTokenIsNotInIt() {
        TelegramClient.Result r = answered(502, "<html>Bad Gateway</html>");
        assertThat(r.ok()).isFalse();
        assertThat(r.transientFailure()).isTrue();
        assertThat(r.description()).isEqualTo("Telegram answered HTTP 502 without a JSON body");
        TelegramClient.Result dead = client.call(new TelegramProperties.Account("42:client-test-token", null,
                URI.create("http://127.0.0.1:1"), "polling", null, null), "getMe", Map.of());
        assertThat(dead.httpStatus()).isZero();
        assertThat(dead.transientFailure()).isTrue();
        assertThat(dead.description()).startsWith("network error calling Telegram: ").doesNotContain("client-test-token", "127.0.0.1");
    }

    /** The sender waits what each fixture says before it tries again (no real waiting: the sleeps are recorded). */
    @Test
    void theSenderWaitsTheRetryAfterOfEach429Fixture_thenSends() throws Exception {
        String withParameters = fixture("error_429_retry_after_parameters.json");
        String textOnly = fixture("error_429_too_many_requests_no_parameters.json");
        AtomicInteger n = new AtomicInteger();
        api.responder = c -> switch (n.incrementAndGet()) {
            case 1 -> new FakeBotApi.Reply(429, withParameters);
            case 2 -> new FakeBotApi.Reply(429, textOnly);
            default -> new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":31}}");
        };
        List<Long> waits = new CopyOnWriteArrayList<>();
        TelegramSender.Sleeper recording = waits::add;
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("sleeper", recording, "clock", Clock.systemUTC()));
        TelegramSender sender = new TelegramSender(new TelegramProperties(Map.of("default", bot), 5, 1, 0), client, null,
                beans.getBeanProvider(Clock.class), beans.getBeanProvider(TelegramSender.Sleeper.class));
        DeliveryReport report = sender.send(new OutboundCommand(1, UUID.randomUUID().toString(), Channel.TELEGRAM, "default", "conv",
                Map.of("chat_id", "9"), "hello", null, null, List.of(), List.of(), Instant.now(), "agent"));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.externalId()).isEqualTo("31");
        assertThat(report.attempts()).isEqualTo(3);
        // besides the rate limiter's own spacing (about 1 s per chat), Telegram's waits, in order
        assertThat(waits.stream().filter(w -> w == 34_000L || w == 3_000L).toList()).containsExactly(34_000L, 3_000L);
        assertThat(api.calls).hasSize(3).allSatisfy(c -> assertThat(c.path()).isEqualTo("/bot42:client-test-token/sendMessage"));
    }
}
