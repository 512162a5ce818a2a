package io.switchboard.channel.webform;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.OutboundCommand;
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

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** channel-webform alone over real HTTP on an embedded broker: the form, its errors, anti-abuse, the JSON twin. */
@SpringBootTest(classes = WebformAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.webform.max-attachments=3",
                "switchboard.webform.max-file-bytes=2000",
                "switchboard.webform.max-total-bytes=5000",
                "switchboard.webform.rate-limit=3",
                "switchboard.webform.trust-forwarded-for=true",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN"})
@EmbeddedKafka(partitions = 1, brokerProperties = "message.max.bytes=16777216")
class WebformAdapterTest {

    private static final AtomicInteger CLIENTS = new AtomicInteger();

    @LocalServerPort
    int port;
    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    org.springframework.kafka.core.KafkaTemplate<String, byte[]> kafka;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    /** Each test is its own client address, so the rate limit of one does not spill into another. */
    String client;
    Consumer<String, byte[]> consumer;

    @BeforeEach
    void setUp() throws Exception {
        client = "203.0.113." + CLIENTS.incrementAndGet();
        consumer = new DefaultKafkaConsumerFactory<>(KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        List<TopicPartition> partitions = List.of();
        long deadline = System.currentTimeMillis() + 10_000;
        while (partitions.isEmpty() && System.currentTimeMillis() < deadline) {
            partitions = consumer.partitionsFor(Topics.inbound(Channel.WEBFORM)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
    }

    @AfterEach
    void close() {
        consumer.close();
    }

    record Part(String field, String fileName, String contentType, byte[] bytes) {
    }

    static final String BOUNDARY = "----sbtest" + UUID.randomUUID();

    static byte[] multipart(Map<String, String> fields, List<Part> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        fields.forEach((k, v) -> out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n"
                + v + "\r\n").getBytes(StandardCharsets.UTF_8)));
        for (Part p : files) {
            out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + p.field() + "\"; filename=\""
                    + p.fileName() + "\"\r\nContent-Type: " + p.contentType() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.writeBytes(p.bytes());
            out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    static Map<String, String> validFields() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("email", "Ivan.Petrov@Example.org");
        f.put("name", "Иван Петров");
        f.put("login", "ivan-login");
        f.put("project", "prod-cluster");
        f.put("topic", "quota");
        f.put("message", "Нужно увеличить квоту на диски");
        f.put("website", "");
        return f;
    }

    HttpResponse<String> post(String path, byte[] body, String contentType, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", contentType).header("X-Forwarded-For", client)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> submit(Map<String, String> fields, List<Part> files) throws Exception {
        return post("/contact", multipart(fields, files), "multipart/form-data; boundary=" + BOUNDARY);
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    List<InboundEnvelope> published(int atLeast, Duration wait) {
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
        long deadline = System.currentTimeMillis() + wait.toMillis();
        while (all.size() < atLeast && System.currentTimeMillis() < deadline) {
            KafkaTestUtils.getRecords(consumer, Duration.ofMillis(300)).forEach(all::add);
        }
        return all.stream().map(r -> ContractJson.fromBytes(r.value(), InboundEnvelope.class)).toList();
    }

    @Test
    void getContactIsAnAccessibleBilingualFormThatNeedsNoJavaScript() throws Exception {
        HttpResponse<String> r = get("/contact");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).get().asString().startsWith("text/html");
        String page = r.body();
        assertThat(page).contains("<form method=\"post\" action=\"/contact\" enctype=\"multipart/form-data\"")
                .doesNotContain("<script")
                .contains("<label for=\"email\">Электронная почта <span lang=\"en\">/ Email</span>")
                .contains("<label for=\"login\">Логин аккаунта <span lang=\"en\">/ Account login</span>")
                .contains("<label for=\"project\">Название проекта <span lang=\"en\">/ Project name</span>")
                .contains("id=\"topic\" name=\"topic\"").contains("id=\"message\" name=\"message\"")
                .contains("type=\"file\" id=\"attachments\" name=\"attachments\" multiple accept=\".png,.jpg,.jpeg,.gif,.webp,.txt,.log,.pdf\"")
                .contains("<div class=\"hp\" aria-hidden=\"true\">").contains("name=\"website\" tabindex=\"-1\"");
    }

    @Test
    void aValidSubmissionIsInKafkaBeforeThe303ToTheThankYouPage() throws Exception {
        byte[] png = new byte[]{(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0};
        HttpResponse<String> r = submit(validFields(), List.of(
                new Part("attachments", "screen.png", "image/png", png),
                new Part("attachments[]", "C:\\logs\\app.log", "application/octet-stream", "ERROR boom\n".getBytes(StandardCharsets.UTF_8)),
                new Part("attachments", "", "application/octet-stream", new byte[0])));
        assertThat(r.statusCode()).isEqualTo(303);
        String location = r.headers().firstValue("Location").orElseThrow();
        assertThat(location).matches("/contact/thanks\\?id=[0-9a-f-]{36}");
        String id = location.substring(location.indexOf('=') + 1);

        List<InboundEnvelope> envelopes = published(1, Duration.ofSeconds(1)); // acknowledged means already on the broker
        assertThat(envelopes).hasSize(1);
        InboundEnvelope e = envelopes.get(0);
        assertThat(e.channel()).isEqualTo(Channel.WEBFORM);
        assertThat(e.eventId()).isEqualTo("webform:default:" + id);
        assertThat(e.affinityKey()).isEqualTo("webform:default:" + id);
        assertThat(e.externalIds()).containsEntry("submission_id", id);
        JsonNode doc = ContractJson.mapper().readTree(e.payloadText());
        assertThat(doc.path("email").asString()).isEqualTo("Ivan.Petrov@Example.org");
        assertThat(doc.path("name").asString()).isEqualTo("Иван Петров");
        assertThat(doc.path("login").asString()).isEqualTo("ivan-login");
        assertThat(doc.path("project").asString()).isEqualTo("prod-cluster");
        assertThat(doc.path("topic").asString()).isEqualTo("quota");
        assertThat(doc.path("topicLabel").asString()).isEqualTo("Квоты и лимиты / Quotas and limits");
        assertThat(doc.path("message").asString()).isEqualTo("Нужно увеличить квоту на диски");
        assertThat(doc.path("source").asString()).isEqualTo("form");
        JsonNode files = doc.path("attachments");
        assertThat(files.size()).isEqualTo(2);
        assertThat(files.get(0).path("name").asString()).isEqualTo("screen.png");
        assertThat(files.get(0).path("contentType").asString()).isEqualTo("image/png");
        assertThat(Base64.getDecoder().decode(files.get(0).path("data").asString())).isEqualTo(png);
        assertThat(files.get(1).path("name").asString()).isEqualTo("app.log"); // no client path
        assertThat(files.get(1).path("contentType").asString()).isEqualTo("text/plain");
        assertThat(files.get(1).path("size").asInt()).isEqualTo(11);

        HttpResponse<String> thanks = get(location);
        assertThat(thanks.statusCode()).isEqualTo(200);
        assertThat(thanks.body()).contains("Спасибо").contains("Thank you").contains(id.substring(0, 8));
    }

    @Test
    void badInputReRendersTheFormWithFieldErrorsAndTheValuesEscaped() throws Exception {
        Map<String, String> fields = validFields();
        fields.put("email", "not-an-email");
        fields.put("message", "   ");
        fields.put("name", "<script>alert(1)</script>");
        HttpResponse<String> r = submit(fields, List.of());
        assertThat(r.statusCode()).isEqualTo(400);
        String page = r.body();
        assertThat(page).contains("role=\"alert\"")
                .contains("<a href=\"#email\">Адрес почты выглядит неверно / This email address does not look valid</a>")
                .contains("<a href=\"#message\">Опишите проблему / Describe the problem</a>")
                .contains("id=\"email\" name=\"email\" value=\"not-an-email\"")
                .contains("aria-invalid=\"true\" aria-describedby=\"email-error\"")
                .contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"").doesNotContain("<script>alert(1)")
                .contains("<option value=\"quota\" selected>");
        assertThat(published(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void filesOutsideTheAllowlistOrLimitsAreFieldErrors() throws Exception {
        byte[] small = "log line\n".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> exe = submit(validFields(), List.of(new Part("attachments", "setup.exe", "application/octet-stream", small)));
        assertThat(exe.statusCode()).isEqualTo(400);
        assertThat(exe.body()).contains("File type not allowed").contains("Please attach the files again");
        HttpResponse<String> fake = submit(validFields(), List.of(new Part("attachments", "shot.png", "image/png", small)));
        assertThat(fake.statusCode()).isEqualTo(400);
        assertThat(fake.body()).contains("does not match its type");
        HttpResponse<String> big = submit(validFields(), List.of(new Part("attachments", "big.log", "text/plain", new byte[2001])));
        assertThat(big.statusCode()).isEqualTo(400);
        assertThat(big.body()).contains("A file is larger than");
        List<Part> four = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            four.add(new Part("attachments", "f" + i + ".txt", "text/plain", small));
        }
        setUpNewClient();
        HttpResponse<String> many = submit(validFields(), four);
        assertThat(many.statusCode()).isEqualTo(400);
        assertThat(many.body()).contains("At most 3 files");
        assertThat(published(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void aFilledHoneypotIsRejectedAndNothingIsPublished() throws Exception {
        Map<String, String> fields = validFields();
        fields.put("website", "http://spam.example");
        HttpResponse<String> r = submit(fields, List.of());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("Submission rejected");
        assertThat(published(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void oneClientAddressGetsAFewSubmissionsPerWindow_thenA429WithRetryAfter() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(submit(validFields(), List.of()).statusCode()).isEqualTo(303);
        }
        HttpResponse<String> limited = submit(validFields(), List.of());
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Retry-After")).get().satisfies(s -> assertThat(Long.parseLong(s)).isPositive());
        assertThat(limited.body()).contains("Too many submissions");
        assertThat(published(4, Duration.ofSeconds(2))).hasSize(3);
        setUpNewClient();
        assertThat(submit(validFields(), List.of()).statusCode()).isEqualTo(303); // another address is not affected
    }

    @Test
    void theJsonEndpointForAppsAnswers202WithTheIdOr400WithFieldErrors() throws Exception {
        String body = "{\"email\":\"app@example.org\",\"login\":\"app-user\",\"project\":\"mobile\",\"topic\":\"billing\","
                + "\"message\":\"from the app\",\"attachments\":[{\"name\":\"trace.txt\",\"data\":\""
                + Base64.getEncoder().encodeToString("trace".getBytes(StandardCharsets.UTF_8)) + "\"}]}";
        HttpResponse<String> ok = post("/contact.json", body.getBytes(StandardCharsets.UTF_8), "application/json");
        assertThat(ok.statusCode()).isEqualTo(202);
        JsonNode answer = ContractJson.mapper().readTree(ok.body());
        assertThat(answer.path("ok").asBoolean()).isTrue();
        InboundEnvelope e = published(1, Duration.ofSeconds(2)).get(0);
        assertThat(e.eventId()).isEqualTo("webform:default:" + answer.path("id").asString());
        JsonNode doc = ContractJson.mapper().readTree(e.payloadText());
        assertThat(doc.path("source").asString()).isEqualTo("api");
        assertThat(doc.path("attachments").get(0).path("contentType").asString()).isEqualTo("text/plain");

        HttpResponse<String> bad = post("/contact.json", "{\"email\":\"x\"}".getBytes(StandardCharsets.UTF_8), "application/json");
        assertThat(bad.statusCode()).isEqualTo(400);
        JsonNode errors = ContractJson.mapper().readTree(bad.body()).path("errors");
        assertThat(errors.has("email")).isTrue();
        assertThat(errors.has("message")).isTrue();
        assertThat(post("/contact.json", "nope".getBytes(StandardCharsets.UTF_8), "application/json").statusCode()).isEqualTo(400);

        setUpNewClient(); // three requests so far from this address: the limit
        HttpResponse<String> multipartJson = post("/contact", multipart(validFields(), List.of()),
                "multipart/form-data; boundary=" + BOUNDARY, "Accept", "application/json");
        assertThat(multipartJson.statusCode()).isEqualTo(202);
        assertThat(multipartJson.body()).contains("\"ok\":true");
    }

    @Test
    void theEmbeddableVariantMayBeFramedAndRedirectsToACompactThankYou() throws Exception {
        HttpResponse<String> page = get("/contact/embed");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).contains("frame-ancestors *");
        assertThat(page.body()).contains("action=\"/contact?embed=1\"");
        assertThat(get("/contact").headers().firstValue("Content-Security-Policy")).contains("frame-ancestors 'self'");
        HttpResponse<String> script = get("/contact/embed.js");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).contains("createElement('iframe')").contains("/contact/embed");
        HttpResponse<String> r = post("/contact?embed=1", multipart(validFields(), List.of()), "multipart/form-data; boundary=" + BOUNDARY);
        assertThat(r.statusCode()).isEqualTo(303);
        assertThat(r.headers().firstValue("Location")).get().asString().endsWith("&embed=1");
        assertThat(published(1, Duration.ofSeconds(2)).get(0).payloadText()).contains("\"source\":\"embed\"");
    }

    @Test
    void aRequestAnnouncingMoreThanTheFormTakesIs413BeforeItIsRead() throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/contact"))
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY).header("X-Forwarded-For", client)
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5000 + (1 << 20) + 1])).build();
        assertThat(http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(413);
    }

    @Test
    void anAgentsReplyToAFormConversationIsHandedToTheEmailChannel() throws Exception {
        OutboundCommand reply = new OutboundCommand(OutboundCommand.SCHEMA_VERSION, "reply-" + UUID.randomUUID(), Channel.WEBFORM,
                "default", "conv-9", Map.of("email", "ivan.petrov@example.org"), "Квота увеличена", "Re: Квоты и лимиты / Quotas and limits",
                null, List.of(), List.of(), java.time.Instant.parse("2025-03-12T16:00:00Z"), "agent1");
        try (Consumer<String, byte[]> email = new DefaultKafkaConsumerFactory<>(KafkaTestUtils.consumerProps(broker, "mail-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
            email.subscribe(List.of(Topics.outbound(Channel.EMAIL)));
            kafka.send(Topics.outbound(Channel.WEBFORM), "conv-9", ContractJson.toBytes(reply)).get();
            List<OutboundCommand> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (got.isEmpty() && System.currentTimeMillis() < deadline) {
                KafkaTestUtils.getRecords(email, Duration.ofMillis(300)).forEach(r -> got.add(ContractJson.fromBytes(r.value(), OutboundCommand.class)));
            }
            assertThat(got).singleElement().satisfies(c -> {
                assertThat(c.channel()).isEqualTo(Channel.EMAIL);
                assertThat(c.account()).isEqualTo("default");
                assertThat(c.messageId()).isEqualTo(reply.messageId());
                assertThat(c.conversationId()).isEqualTo("conv-9");
                assertThat(c.recipient()).containsEntry("email", "ivan.petrov@example.org");
                assertThat(c.text()).isEqualTo("Квота увеличена");
                assertThat(c.subject()).isEqualTo("Re: Квоты и лимиты / Quotas and limits");
            });
        }
    }

    private void setUpNewClient() {
        client = "203.0.113." + CLIENTS.incrementAndGet();
    }
}
