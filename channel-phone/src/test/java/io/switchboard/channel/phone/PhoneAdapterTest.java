package io.switchboard.channel.phone;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** channel-phone alone on a real embedded broker: every fixture in fixtures/phone through the endpoint. */
@SpringBootTest(classes = PhoneAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.phone.accounts.default.webhook-token=phone-token",
                "switchboard.phone.accounts.default.default-region=RU",
                "switchboard.phone.accounts.default.zadarma-secret=shared-zadarma-secret",
                "switchboard.phone.accounts.default.mango-api-key=sharedkey000111222333444555666777",
                "switchboard.phone.accounts.default.mango-api-salt=shared-salt",
                "switchboard.phone.accounts.default.twilio-auth-token=shared00000000000000000000token00",
                "switchboard.phone.accounts.default.twilio-webhook-url=https://example.com/twilio/status",
                "switchboard.phone.accounts.tokenonly.webhook-token=other-token",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN"})
@EmbeddedKafka(partitions = 1, topics = "inbox.inbound.phone.v1")
class PhoneAdapterTest {

    static final String TOKEN = "phone-token";

    @LocalServerPort
    int port;
    @Autowired
    EmbeddedKafkaBroker broker;

    final HttpClient http = HttpClient.newHttpClient();
    Consumer<String, byte[]> consumer;

    @BeforeEach
    void subscribe() {
        consumer = new DefaultKafkaConsumerFactory<>(KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        // from the end of the topic: only what this test publishes
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.inbound(Channel.PHONE)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
    }

    @AfterEach
    void close() {
        consumer.close();
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = PhoneAdapterTest.class.getResourceAsStream("/fixtures/phone/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The body of a .form fixture (one line, no trailing newline in what a vendor sends). */
    static String form(String name) throws IOException {
        return fixture(name).strip();
    }

    static String signature(String signatureFile, String field) throws IOException {
        return fixture(signatureFile).lines().filter(l -> l.startsWith(field + ":"))
                .map(l -> l.substring(field.length() + 1).trim()).findFirst().orElseThrow();
    }

    HttpResponse<String> post(String path, String contentType, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> csv(String body) throws Exception {
        return post("/webhooks/phone/default/asterisk-cdr", "text/csv", body, "Authorization", "Bearer " + TOKEN);
    }

    List<InboundEnvelope> published(int atLeast) {
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 10_000;
        while (all.size() < atLeast && System.currentTimeMillis() < deadline) {
            KafkaTestUtils.getRecords(consumer, Duration.ofMillis(300)).forEach(all::add);
        }
        List<InboundEnvelope> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : all) {
            InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
            assertThat(r.key()).isEqualTo(e.affinityKey());
            out.add(e);
        }
        return out;
    }

    List<InboundEnvelope> nothingPublished() {
        List<InboundEnvelope> seen = new ArrayList<>();
        KafkaTestUtils.getRecords(consumer, Duration.ofSeconds(1)).forEach(r ->
                seen.add(ContractJson.fromBytes(r.value(), InboundEnvelope.class)));
        return seen;
    }

    static JsonNode json(HttpResponse<String> r) {
        return ContractJson.mapper().readTree(r.body());
    }

    @Test
    void withoutOrWithAWrongBearerTokenIs401AndNothingIsPublished() throws Exception {
        String body = fixture("asterisk_testsuite_master_console_hangup.csv");
        assertThat(post("/webhooks/phone/default/asterisk-cdr", "text/csv", body).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/default/asterisk-cdr", "text/csv", body, "Authorization", "Bearer nope").statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/default/asterisk-cdr", "text/csv", body, "Authorization", "Basic " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/tokenonly/asterisk-cdr", "text/csv", body, "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(nothingPublished()).isEmpty();
    }

    @Test
    void unknownAccountOrFormatIs404() throws Exception {
        assertThat(post("/webhooks/phone/nobody/generic", "application/json", "{}", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(404);
        assertThat(post("/webhooks/phone/default/fax", "application/json", "{}", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(404);
    }

    @Test
    void allDispositionsFixture_fiveLinesFiveEnvelopes_eachTheRawLine() throws Exception {
        String body = fixture("asterisk_testsuite_cdr_all_dispositions.csv");
        HttpResponse<String> r = csv(body);
        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r).path("accepted").asInt()).isEqualTo(5);
        assertThat(json(r).path("rejected").size()).isZero();
        List<InboundEnvelope> envelopes = published(5);
        assertThat(envelopes).hasSize(5);
        List<String> lines = body.lines().toList();
        for (int i = 0; i < 5; i++) {
            InboundEnvelope e = envelopes.get(i);
            assertThat(e.channel()).isEqualTo(Channel.PHONE);
            assertThat(e.contentType()).isEqualTo("text/csv");
            assertThat(e.payloadText()).isEqualTo(lines.get(i));
            assertThat(e.externalIds()).containsEntry("format", "asterisk-cdr").containsEntry("call_id", "1231977075.0")
                    .containsEntry("region", "RU").containsEntry("time_zone", "UTC").containsEntry("line", String.valueOf(i + 1));
            assertThat(e.affinityKey()).isEqualTo("phone:default:internal"); // "test" calls extension 100: no customer
        }
        assertThat(envelopes).extracting(InboundEnvelope::eventId).doesNotHaveDuplicates();
    }

    @Test
    void unterminatedQuoteFixture_aloneIs400WithTheLineNumber() throws Exception {
        HttpResponse<String> r = csv(fixture("asterisk_testsuite_cdr_unterminated_quote.csv"));
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode rejected = json(r).path("rejected");
        assertThat(rejected.size()).isEqualTo(1);
        assertThat(rejected.get(0).path("line").asInt()).isEqualTo(1);
        assertThat(rejected.get(0).path("reason").asString()).contains("unterminated quote");
        assertThat(nothingPublished()).isEmpty();
    }

    @Test
    void malformedLinesAreRejectedByNumberWhileTheGoodLinesOfTheRequestAreKept() throws Exception {
        String good = fixture("asterisk_testsuite_master_console_hangup.csv").strip();
        String bad = fixture("asterisk_testsuite_cdr_unterminated_quote.csv").strip();
        String body = good.lines().toList().get(0) + "\r\n" + bad + "\r\n\"a\",\"b\",\"c\"\r\n" + good.lines().toList().get(1) + "\r\n";
        HttpResponse<String> r = csv(body);
        assertThat(r.statusCode()).isEqualTo(202);
        JsonNode answer = json(r);
        assertThat(answer.path("accepted").asInt()).isEqualTo(2);
        assertThat(answer.path("rejected").size()).isEqualTo(2);
        assertThat(answer.path("rejected").get(0).path("line").asInt()).isEqualTo(2);
        assertThat(answer.path("rejected").get(0).path("reason").asString()).contains("unterminated quote");
        assertThat(answer.path("rejected").get(1).path("line").asInt()).isEqualTo(3);
        assertThat(answer.path("rejected").get(1).path("reason").asString()).contains("found 3");
        List<InboundEnvelope> envelopes = published(2);
        assertThat(envelopes).extracting(e -> e.externalIds().get("call_id")).containsExactly("1270167992.0", "1270168442.0");
        assertThat(envelopes).extracting(e -> e.externalIds().get("line")).containsExactly("1", "4");
    }

    @Test
    void threeMissedCallsInThreeNumberFormats_shareOneKafkaKeyWithTheCallback() throws Exception {
        HttpResponse<String> r = csv(fixture("authored/authored_asterisk_master_missed_same_number_3_formats.csv"));
        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r).path("accepted").asInt()).isEqualTo(4);
        List<InboundEnvelope> envelopes = published(4);
        assertThat(envelopes).extracting(InboundEnvelope::affinityKey).containsOnly("phone:default:78125550123");
        assertThat(envelopes).extracting(e -> e.externalIds().get("call_id"))
                .containsExactly("1730811670.257", "1730812844.263", "1730815323.271", "1730815800.280");
    }

    @Test
    void amiCdrEvent_authoredBusyIsPublished_theDocsTemplateIs400() throws Exception {
        String busy = fixture("authored/authored_ami_cdr_event_busy.txt");
        HttpResponse<String> r = post("/webhooks/phone/default/asterisk-ami", "text/plain", busy, "Authorization", "Bearer " + TOKEN);
        assertThat(r.statusCode()).isEqualTo(202);
        InboundEnvelope e = published(1).get(0);
        assertThat(e.externalIds()).containsEntry("call_id", "1730818801.301").containsEntry("format", "asterisk-ami");
        assertThat(e.affinityKey()).isEqualTo("phone:default:74951230045");
        assertThat(e.payloadText()).contains("Disposition: BUSY");

        HttpResponse<String> template = post("/webhooks/phone/default/asterisk-ami", "text/plain",
                fixture("asterisk_docs_ami_cdr_event_syntax.txt"), "Authorization", "Bearer " + TOKEN);
        assertThat(template.statusCode()).isEqualTo(400);
        assertThat(json(template).path("rejected").get(0).path("reason").asString()).contains("StartTime");
    }

    @Test
    void zadarmaNotification_needsItsSignatureWhenTheSecretIsConfigured() throws Exception {
        String body = form("authored/authored_zadarma_notify_end_no_answer.form");
        String sig = signature("authored/authored_zadarma_notify_end_no_answer.signature.txt", "Signature");
        String path = "/webhooks/phone/default/zadarma";
        String type = "application/x-www-form-urlencoded";
        assertThat(post(path, type, body, "Signature", "AAAA" + sig.substring(4)).statusCode()).isEqualTo(401);
        assertThat(post(path, type, body.replace("78125550123", "78125550124"), "Signature", sig).statusCode()).isEqualTo(401);
        assertThat(post(path, type, body, "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(401); // the signature decides
        assertThat(post(path, type, body, "Signature", sig).statusCode()).isEqualTo(202);
        List<InboundEnvelope> envelopes = published(1);
        assertThat(envelopes).hasSize(1);
        InboundEnvelope e = envelopes.get(0);
        assertThat(e.payloadText()).isEqualTo(body);
        assertThat(e.externalIds()).containsEntry("call_id", "in_0f9e8d7c6b5a4f3e2d1c").containsEntry("format", "zadarma");
        assertThat(e.affinityKey()).isEqualTo("phone:default:78125550123");

        HttpRequest echo = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path + "?zd_echo=abc123")).GET().build();
        assertThat(http.send(echo, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("abc123");
    }

    @Test
    void mangoSummary_needsAValidSign_alsoOnTheEventsPathMangoAppends() throws Exception {
        String body = form("authored/authored_mango_events_summary_answered.form");
        String type = "application/x-www-form-urlencoded";
        assertThat(post("/webhooks/phone/default/mango", type, body.replace("sign=40ce", "sign=41ce")).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/default/mango", type, body.replace("%22talk_time%22%3A1730811680", "%22talk_time%22%3A1730811681"))
                .statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/default/mango/events/summary", type, body).statusCode()).isEqualTo(202);
        InboundEnvelope e = published(1).get(0);
        assertThat(e.externalIds()).containsEntry("call_id", "MjA5OTQ4NzczOjIwMQ==").containsEntry("format", "mango");
        assertThat(e.affinityKey()).isEqualTo("phone:default:78125550123");
        assertThat(e.payloadText()).isEqualTo(body);
    }

    @Test
    void twilioStatusCallback_needsTheTwilioSignatureOfTheConfiguredUrl() throws Exception {
        String body = form("authored/authored_twilio_status_busy.form");
        String sig = signature("authored/authored_twilio_status_busy.signature.txt", "X-Twilio-Signature");
        String type = "application/x-www-form-urlencoded";
        assertThat(post("/webhooks/phone/default/twilio", type, body.replace("busy", "completed"), "X-Twilio-Signature", sig)
                .statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/default/twilio", type, body).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/phone/default/twilio", type, body, "X-Twilio-Signature", sig).statusCode()).isEqualTo(202);
        InboundEnvelope e = published(1).get(0);
        assertThat(e.externalIds()).containsEntry("call_id", "CA00000000000000000000000000000002").containsEntry("format", "twilio");
        assertThat(e.affinityKey()).isEqualTo("phone:default:78125550123"); // outbound-api: the customer is To
    }

    @Test
    void genericJson_oneObjectOrAnArray_badItemsRejectedByIndex() throws Exception {
        String one = """
                {"callId":"g-1","event":"end","direction":"inbound","from":"+7 (499) 350-97-03","to":"74957770011",
                 "startedAt":"2024-11-05T13:01:10Z","endedAt":"2024-11-05T13:01:40Z","disposition":"no-answer","agent":"201"}""";
        HttpResponse<String> r = post("/webhooks/phone/default/generic", "application/json", one, "Authorization", "Bearer " + TOKEN);
        assertThat(r.statusCode()).isEqualTo(202);
        InboundEnvelope e = published(1).get(0);
        assertThat(e.payloadText()).isEqualTo(one);
        assertThat(e.affinityKey()).isEqualTo("phone:default:74993509703");
        assertThat(e.externalIds()).containsEntry("call_id", "g-1").containsEntry("format", "generic");

        String many = "[" + one + ",{\"callId\":\"g-2\",\"direction\":\"sideways\"},{\"callId\":\"g-3\",\"direction\":\"outbound\","
                + "\"to\":\"84993509703\",\"startedAt\":\"yesterday\"}]";
        HttpResponse<String> batch = post("/webhooks/phone/default/generic", "application/json", many, "Authorization", "Bearer " + TOKEN);
        assertThat(batch.statusCode()).isEqualTo(202);
        JsonNode answer = json(batch);
        assertThat(answer.path("accepted").asInt()).isEqualTo(1);
        assertThat(answer.path("rejected").get(0).path("item").asInt()).isEqualTo(2);
        assertThat(answer.path("rejected").get(1).path("item").asInt()).isEqualTo(3);
        assertThat(answer.path("rejected").get(1).path("reason").asString()).contains("startedAt");

        assertThat(post("/webhooks/phone/default/generic", "application/json", "not json", "Authorization", "Bearer " + TOKEN)
                .statusCode()).isEqualTo(400);
    }
}
