package io.switchboard.router.phone;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterApplication;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.InboxStore;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Duration;

/**
 * A router context (embedded broker, in-process store) for the phone and web form pipeline tests.
 * Closed after each class: with two embedded brokers alive in one JVM, a context started later
 * resolves spring.embedded.kafka.brokers to the first broker, which broke broker-specific
 * assertions of other router tests. Its own consumer group and instance id keep it from fencing
 * another router context's static members should they ever share a broker.
 */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-channels-test",
        "switchboard.router.group-id=switchboard-router-channels-test",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1", brokerProperties = "message.max.bytes=16777216")
@DirtiesContext
public abstract class ChannelPipelineSupport {

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    protected static final Duration WAIT = Duration.ofSeconds(20);

    @Autowired
    protected KafkaTemplate<String, byte[]> kafka;
    @Autowired
    protected InboxStore store;

    protected void publish(InboundEnvelope e) throws Exception {
        kafka.send(Topics.inbound(e.channel()), e.affinityKey(), ContractJson.toBytes(e)).get();
    }
}
