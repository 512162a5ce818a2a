package io.switchboard.router.tracing;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterApplication;
import io.switchboard.router.support.Fixtures;
import io.switchboard.router.support.InMemoryStore;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The trace of a webhook continues through the router: the inbound record's {@code traceparent}
 * is the parent of the router's processing (trace id in the MDC of its structured log lines, with
 * the channel) and of the conversation events that record caused.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-tracing-test",
        "management.tracing.sampling.probability=1.0",
        "logging.structured.format.console=ecs",
        "logging.level.io.switchboard.router.tracing=DEBUG", "logging.level.io.switchboard.router.ingest.InboxWriter=DEBUG",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1")
class RecordTracingTest {

    /** A W3C trace context as an adapter's webhook would have written it. */
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String PARENT_SPAN = "00f067aa0ba902b7";

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    @Autowired
    EmbeddedKafkaBroker broker;

    @Test
    void theInboundTraceContinuesIntoProcessingLogsAndConversationEvents(CapturedOutput output) throws Exception {
        String json = Fixtures.text("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7301");
        InboundEnvelope envelope = InboundEnvelope.ofText("telegram:default:update:7301", Channel.TELEGRAM, "default", Map.of(),
                Instant.now(), "telegram:default:chat:7301", "application/json", json);
        String conversationId;
        try (Consumer<String, byte[]> events = consumer(Topics.CONVERSATION_EVENTS);
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                     KafkaTestUtils.producerProps(broker.getBrokersAsString()), new StringSerializer(), new ByteArraySerializer())) {
            // a plain producer, so the header is exactly the adapter's (no observation of the test's own)
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.inbound(Channel.TELEGRAM), envelope.affinityKey(),
                    ContractJson.toBytes(envelope));
            record.headers().add("traceparent", ("00-" + TRACE_ID + "-" + PARENT_SPAN + "-01").getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();

            List<ConsumerRecord<String, byte[]>> caused = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (caused.isEmpty() && System.currentTimeMillis() < deadline) {
                KafkaTestUtils.getRecords(events, Duration.ofMillis(300)).forEach(r -> {
                    ConversationEvent e = ContractJson.fromBytes(r.value(), ConversationEvent.class);
                    if (e.type().equals(ConversationEvent.MESSAGE_ADDED) && e.channel() == Channel.TELEGRAM
                            && r.headers().lastHeader("traceparent") != null) {
                        caused.add(r);
                    }
                });
            }
            assertThat(caused).as("conversation events of the record").isNotEmpty();
            conversationId = ContractJson.fromBytes(caused.get(0).value(), ConversationEvent.class).conversationId();
            for (ConsumerRecord<String, byte[]> r : caused) {
                String[] traceparent = header(r, "traceparent").split("-");
                assertThat(traceparent).hasSize(4);
                assertThat(traceparent[1]).as("same trace as the webhook").isEqualTo(TRACE_ID);
                assertThat(traceparent[2]).as("a span of its own").isNotEqualTo(PARENT_SPAN).hasSize(16);
            }
        }

        // the router's structured log line for the record carries trace, span and channel in the MDC
        JsonNode line = null;
        long deadline = System.currentTimeMillis() + 10_000;
        while (line == null && System.currentTimeMillis() < deadline) {
            for (String l : output.getOut().split("\\R")) {
                if (l.startsWith("{") && l.contains("processing inbox.inbound.telegram.v1") && l.contains(TRACE_ID)) {
                    line = JsonMapper.builder().build().readTree(l);
                }
            }
            if (line == null) {
                Thread.sleep(100);
            }
        }
        assertThat(line).as("a JSON log line of the processing, in the webhook's trace").isNotNull();
        assertThat(line.path("traceId").asString()).isEqualTo(TRACE_ID);
        assertThat(line.path("spanId").asString()).hasSize(16).isNotEqualTo(PARENT_SPAN);
        assertThat(line.path("channel").asString()).isEqualTo("telegram");
        assertThat(line.path("affinityKey").asString()).isEqualTo("telegram:default:chat:7301");

        // once the record's conversation is known, the lines of its processing carry it in the MDC too
        JsonNode stored = null;
        deadline = System.currentTimeMillis() + 10_000;
        while (stored == null && System.currentTimeMillis() < deadline) {
            for (String l : output.getOut().split("\\R")) {
                if (l.startsWith("{") && l.contains("inbound message") && l.contains(TRACE_ID)) {
                    stored = JsonMapper.builder().build().readTree(l);
                }
            }
            if (stored == null) {
                Thread.sleep(100);
            }
        }
        assertThat(stored).as("a JSON log line written while the record's message is stored").isNotNull();
        assertThat(stored.path("conversation").asString()).isEqualTo(conversationId);
        assertThat(stored.path("channel").asString()).isEqualTo("telegram");
        assertThat(stored.path("account").asString()).isEqualTo("default");
        assertThat(stored.path("eventId").asString()).isEqualTo("telegram:default:update:7301");
    }

    @Test
    void channelComesFromTheInboundTopicName() {
        assertThat(RecordTracing.channelOf("inbox.inbound.vk.v1")).isEqualTo("vk");
        assertThat(RecordTracing.channelOf("inbox.delivery.reports.v1")).isNull();
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    Consumer<String, byte[]> consumer(String topic) {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "trace-test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        c.subscribe(List.of(topic)); // from the earliest offset: events published before the assignment count too
        return c;
    }
}
