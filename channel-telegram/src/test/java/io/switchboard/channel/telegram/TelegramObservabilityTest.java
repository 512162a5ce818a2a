package io.switchboard.channel.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * channel-telegram deployed alone, as an operator sees it: its {@code kafka} health component
 * reports the outbound listener, and the W3C trace context travels webhook → inbound record and
 * outbound command → delivery report through Kafka headers.
 */
@SpringBootTest(classes = TelegramAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.telegram.accounts.default.bot-token=123:secret-token",
                "switchboard.telegram.accounts.default.webhook-secret=hook-secret",
                "switchboard.telegram.accounts.default.mode=webhook",
                "switchboard.instance-id=observability-test",
                "management.tracing.sampling.probability=1.0",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN"})
@EmbeddedKafka(partitions = 1)
class TelegramObservabilityTest {

    static final FakeBotApi BOT_API = new FakeBotApi();
    static final JsonMapper JSON = JsonMapper.builder().build();

    @DynamicPropertySource
    static void api(DynamicPropertyRegistry registry) {
        registry.add("switchboard.telegram.accounts.default.api-url", BOT_API::url);
    }

    @AfterAll
    static void stop() {
        BOT_API.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    EmbeddedKafkaBroker broker;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theHealthOfAnAdapterAloneShowsItsOutboundListener() throws Exception {
        JsonNode kafka = null;
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            kafka = JSON.readTree(r.body()).path("components").path("kafka");
            if ("UP".equals(kafka.path("status").asString())) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(kafka).isNotNull();
        assertThat(kafka.path("status").asString()).isEqualTo("UP");
        assertThat(kafka.path("details").path("brokers").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(kafka.path("details").path("consumers").path("telegram-sender").asString()).startsWith("assigned");
        // the file fetcher reads the inbound topic; until it is assigned, customers' files would wait
        assertThat(kafka.path("details").path("consumers").path("telegram-files").asString()).startsWith("assigned");
    }

    @Test
    void theWebhookRequestsTraceIsInTheInboundRecordsHeaders() throws Exception {
        String traceId = "0af7651916cd43dd8448eb211c80319c";
        String update = "{\"update_id\":8801,\"message\":{\"message_id\":8801,\"date\":1741794405,"
                + "\"chat\":{\"id\":8801,\"type\":\"private\"},\"from\":{\"id\":8801,\"first_name\":\"Trace\"},\"text\":\"hi\"}}";
        try (Consumer<String, byte[]> inbound = consumer(Topics.inbound(Channel.TELEGRAM))) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/telegram/default"))
                    .header("Content-Type", "application/json").header("X-Telegram-Bot-Api-Secret-Token", "hook-secret")
                    .header("traceparent", "00-" + traceId + "-b7ad6b7169203331-01")
                    .POST(HttpRequest.BodyPublishers.ofString(update)).build();
            assertThat(http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            ConsumerRecord<String, byte[]> record = first(inbound, r ->
                    ContractJson.fromBytes(r.value(), InboundEnvelope.class).eventId().equals("telegram:default:update:8801"));
            String[] traceparent = header(record, "traceparent").split("-");
            assertThat(traceparent[1]).isEqualTo(traceId);
            assertThat(traceparent[2]).isNotEqualTo("b7ad6b7169203331");
        }
    }

    @Test
    void aReplyCommandsTraceContinuesIntoItsDeliveryReport() throws Exception {
        String traceId = "5b8aa5a2d2c872e8321cf37308d69df2";
        OutboundCommand command = new OutboundCommand(1, UUID.randomUUID().toString(), Channel.TELEGRAM, "default", "conv-trace",
                Map.of("chat_id", "8802"), "traced reply", null, null, List.of(), List.of(), Instant.now(), "agent");
        try (Consumer<String, byte[]> reports = consumer(Topics.DELIVERY_REPORTS);
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaTestUtils.producerProps(broker.getBrokersAsString()),
                     new StringSerializer(), new ByteArraySerializer())) {
            // as inbox-api would write it: the trace of the agent's request in the command's headers
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.outbound(Channel.TELEGRAM), command.conversationId(),
                    ContractJson.toBytes(command));
            record.headers().add("traceparent", ("00-" + traceId + "-051581bf3cb55c13-01").getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();
            ConsumerRecord<String, byte[]> report = first(reports, r ->
                    ContractJson.fromBytes(r.value(), DeliveryReport.class).messageId().equals(command.messageId()));
            assertThat(header(report, "traceparent").split("-")[1]).isEqualTo(traceId);
        }
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        assertThat(h).as("header " + name).isNotNull();
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    static ConsumerRecord<String, byte[]> first(Consumer<String, byte[]> c, Predicate<ConsumerRecord<String, byte[]>> wanted) {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, byte[]> r : KafkaTestUtils.getRecords(c, Duration.ofMillis(300))) {
                if (wanted.test(r)) {
                    return r;
                }
            }
        }
        throw new AssertionError("no such record within 20 s");
    }

    Consumer<String, byte[]> consumer(String topic) {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        c.subscribe(List.of(topic));
        return c;
    }
}
