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
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Duration;

/** One router context (embedded broker, in-process store) shared by the phone and web form pipeline tests. */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-test",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1", brokerProperties = "message.max.bytes=16777216")
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
