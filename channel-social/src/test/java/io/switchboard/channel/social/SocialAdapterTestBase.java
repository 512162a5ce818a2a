package io.switchboard.channel.social;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * channel-social alone on a real embedded broker, with local stand-ins for the VK API and the
 * Graph API. One context for every adapter test class (same configuration, so Spring reuses it).
 * VK accounts exist for each group id found in the fixtures, so fixtures are posted unchanged
 * (plus the secret); account "lp" receives by Bots Long Poll.
 */
@SpringBootTest(classes = SocialAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.vk.accounts.default.group-id=100200300",
                "switchboard.vk.accounts.default.confirmation-code=conf-code-42",
                "switchboard.vk.accounts.default.secret=shared-vk-secret",
                "switchboard.vk.accounts.default.access-token=vk-token",
                "switchboard.vk.accounts.g168230748.group-id=168230748",
                "switchboard.vk.accounts.g168230748.confirmation-code=c",
                "switchboard.vk.accounts.g168230748.secret=shared-vk-secret",
                "switchboard.vk.accounts.g1.group-id=1",
                "switchboard.vk.accounts.g1.confirmation-code=c",
                "switchboard.vk.accounts.g1.secret=shared-vk-secret",
                "switchboard.vk.accounts.g1234.group-id=1234",
                "switchboard.vk.accounts.g1234.confirmation-code=c",
                "switchboard.vk.accounts.g1234.secret=shared-vk-secret",
                "switchboard.vk.accounts.g123456789.group-id=123456789",
                "switchboard.vk.accounts.g123456789.confirmation-code=c",
                "switchboard.vk.accounts.g123456789.secret=shared-vk-secret",
                "switchboard.vk.accounts.lp.group-id=100200300",
                "switchboard.vk.accounts.lp.access-token=lp-token",
                "switchboard.vk.accounts.lp.mode=longpoll",
                "switchboard.facebook.accounts.default.verify-token=shared-verify-token",
                "switchboard.facebook.accounts.default.app-secret=shared-fixtures-app-secret",
                "switchboard.facebook.accounts.default.page-access-token=page-token",
                "switchboard.facebook.accounts.tagged.app-secret=other-secret",
                "switchboard.facebook.accounts.tagged.page-access-token=page-token-2",
                "switchboard.facebook.accounts.tagged.outside-window-tag=HUMAN_AGENT",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.state.change.logger=WARN"})
@EmbeddedKafka(partitions = 1, topics = {"inbox.inbound.vk.v1", "inbox.inbound.facebook.v1", "inbox.delivery.reports.v1",
        "inbox.adapter-state.vk.v1"})
public abstract class SocialAdapterTestBase {

    protected static final FakeApi VK_API = new FakeApi(c -> new FakeApi.Reply(200, "{\"response\":1}"));
    protected static final FakeApi GRAPH_API = new FakeApi(c -> new FakeApi.Reply(200,
            "{\"recipient_id\":\"USER_ID\",\"message_id\":\"m_sent_1\"}"));

    static {
        // Account "lp" polls all along: the first poll returns the authored Bots Long Poll batch, later ones nothing.
        VK_API.routes.put("/method/groups.getLongPollServer", c -> new FakeApi.Reply(200,
                "{\"response\":{\"key\":\"lp-key\",\"server\":\"" + VK_API.url() + "/lp\",\"ts\":\"500\"}}"));
        java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
        VK_API.routes.put("/lp", c -> {
            if (polls.incrementAndGet() == 1) {
                return new FakeApi.Reply(200, new String(fixture("vk/authored_longpoll_response_envelope.json"),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new FakeApi.Reply(200, "{\"ts\":\"512\",\"updates\":[]}");
        });
    }

    @DynamicPropertySource
    static void apis(DynamicPropertyRegistry registry) {
        for (String account : List.of("default", "g168230748", "g1", "g1234", "g123456789", "lp")) {
            registry.add("switchboard.vk.accounts." + account + ".api-url", () -> VK_API.url() + "/method");
        }
        registry.add("switchboard.facebook.accounts.default.graph-url", () -> GRAPH_API.url() + "/v21.0");
        registry.add("switchboard.facebook.accounts.tagged.graph-url", () -> GRAPH_API.url() + "/v21.0");
    }

    @LocalServerPort
    protected int port;
    @Autowired
    protected EmbeddedKafkaBroker broker;
    @Autowired
    protected KafkaTemplate<String, byte[]> kafka;

    protected final HttpClient http = HttpClient.newHttpClient();

    protected static byte[] fixture(String path) {
        try (InputStream in = SocialAdapterTestBase.class.getResourceAsStream("/fixtures/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    protected HttpResponse<String> post(String path, byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    protected HttpResponse<String> get(String pathAndQuery) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A consumer of what is published from now on (earlier tests' records are skipped). */
    protected Consumer<String, byte[]> consumer(String topic) {
        return consumer(topic, true);
    }

    protected Consumer<String, byte[]> consumer(String topic, boolean fromNow) {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        broker.consumeFromAnEmbeddedTopic(c, fromNow, topic);
        c.assignment().forEach(c::position); // seekToEnd is lazy: fix the position before anything is posted
        return c;
    }

    /** Records of the topic until those matching {@code wanted} number at least {@code atLeast} (or 15 s pass). */
    protected static List<ConsumerRecord<String, byte[]>> drain(Consumer<String, byte[]> c, Predicate<InboundEnvelope> wanted, int atLeast) {
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 15_000;
        while (all.size() < atLeast && System.currentTimeMillis() < deadline) {
            KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(r -> {
                if (wanted.test(ContractJson.fromBytes(r.value(), InboundEnvelope.class))) {
                    all.add(r);
                }
            });
        }
        return all;
    }

    protected static List<ConsumerRecord<String, byte[]>> drainAll(Consumer<String, byte[]> c, int atLeast) {
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 15_000;
        while (all.size() < atLeast && System.currentTimeMillis() < deadline) {
            KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(all::add);
        }
        return all;
    }

    protected static InboundEnvelope envelope(ConsumerRecord<String, byte[]> r) {
        return ContractJson.fromBytes(r.value(), InboundEnvelope.class);
    }
}
