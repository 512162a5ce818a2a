package io.switchboard.channel.social;

import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.admin.TopicDescription;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;
import org.springframework.kafka.core.KafkaAdmin;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * channel-social deployed alone, as its operator scrapes it: the ingest counters by channel and account
 * (published, failed), the lag of its outbound senders' consumers, and the topics it creates with the
 * one shared partition setting.
 */
class SocialAdapterOperationsTest extends SocialAdapterTestBase {

    @Autowired
    ApplicationContext context;

    @Autowired
    MeterRegistry meters;

    /**
     * The meters as the Prometheus endpoint would publish them (tests run with Boot's simple registry, the
     * endpoint off): {@code switchboard.ingest.published} is {@code switchboard_ingest_published_total}.
     */
    List<Meter.Id> meters(String name) {
        return meters.find(name).meters().stream().map(Meter::getId).toList();
    }

    @Test
    void theAdapterCountsWhatItPublishesByChannelAndAccount_andWhatTheBrokerRefuses() throws Exception {
        HttpResponse<String> r = post("/webhooks/vk/default", fixture("vk/authored_callback_message_new_doc_with_secret.json"), Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        // a record over the producer's limit fails like a broker refusal would: counted, with the reason
        InboundEnvelope huge = InboundEnvelope.ofText("vk:default:event:huge", Channel.VK, "default", Map.of(), Instant.now(),
                "vk:default:peer:1", "application/json", "x".repeat(SharedTopics.LARGE_RECORD_BYTES + 1024));
        try {
            kafka.send(Topics.inbound(Channel.VK), huge.affinityKey(), ContractJson.toBytes(huge)).get(10, TimeUnit.SECONDS);
        } catch (Exception expected) {
            // RecordTooLargeException
        }
        assertThat(meters.get("switchboard.ingest.published").tags("channel", "vk", "account", "default").counter().count())
                .isGreaterThanOrEqualTo(1.0);
        assertThat(meters.get("switchboard.ingest.failures").tags("channel", "vk", "account", "default",
                "reason", "RecordTooLargeException").counter().count()).isEqualTo(1.0);
    }

    @Test
    void theLagOfEachOutboundSendersConsumerIsExposed() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> clients = List.of();
        while (System.nanoTime() < deadline) {
            clients = meters("kafka.consumer.fetch.manager.records.lag.max").stream().map(id -> id.getTag("client.id")).toList();
            if (clients.stream().anyMatch(c -> c.contains("switchboard-channel-vk"))
                    && clients.stream().anyMatch(c -> c.contains("switchboard-channel-facebook"))) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(clients).anySatisfy(c -> assertThat(c).startsWith("consumer-switchboard-channel-vk"))
                .anySatisfy(c -> assertThat(c).startsWith("consumer-switchboard-channel-facebook"));
    }

    /** The broker's topics after the adapter started alone: the inbound and outbound ones have the shared partition count. */
    @Test
    void theTopicsItCreatesHaveTheSharedPartitionCount() throws Exception {
        int partitions = context.getBean(SharedTopics.class).partitions();
        assertThat(partitions).isEqualTo(6);
        List<String> names = List.of(Topics.inbound(Channel.VK), Topics.outbound(Channel.VK), Topics.inbound(Channel.FACEBOOK),
                Topics.outbound(Channel.FACEBOOK), Topics.DELIVERY_REPORTS);
        // the test broker pre-creates some with one partition; the adapter's declarations add the missing ones
        Map<String, TopicDescription> topics = context.getBean(KafkaAdmin.class).describeTopics(names.toArray(String[]::new));
        for (String name : names) {
            assertThat(topics.get(name).partitions()).as(name).hasSize(partitions);
        }
    }
}
