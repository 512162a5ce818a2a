package io.switchboard.adapter.support;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.kafka.support.ProducerListener;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The shared topic declarations, the ingest counters and the outbound MDC, without a broker. */
class SharedTopicsAndMetricsTest {

    @Test
    void everyDeclarationOfATopicIsTheSame_partitionsFromTheOneSetting_largeRecordsOnInboundAndDeadLetters() {
        SharedTopics topics = new SharedTopics(3);
        for (Channel c : Channel.values()) {
            assertThat(topics.topic(Topics.inbound(c)).numPartitions()).isEqualTo(3);
            assertThat(topics.topic(Topics.inbound(c)).configs()).containsEntry("max.message.bytes", "16777216");
            assertThat(topics.topic(Topics.outbound(c)).numPartitions()).isEqualTo(3);
            assertThat(topics.topic(Topics.outbound(c)).configs()).isNullOrEmpty();
        }
        assertThat(topics.topic(Topics.DELIVERY_REPORTS).numPartitions()).isEqualTo(3);
        assertThat(topics.topic(Topics.ROUTER_DEAD_LETTER).numPartitions()).isEqualTo(1);
        assertThat(topics.topic(Topics.ROUTER_DEAD_LETTER).configs()).containsEntry("max.message.bytes", "16777216");
        assertThat(topics.topic(Topics.CONTROL_REPLAY).numPartitions()).isEqualTo(1);
        assertThat(topics.topic(Topics.inbound(Channel.VK)).replicationFactor())
                .as("the brokers' default replication (1 on one broker, 3 on the cluster)").isEqualTo((short) -1);
    }

    @Test
    void publishedAndFailedInboundRecordsAreCountedByChannelAndAccount_otherTopicsNot() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("meters", meters));
        ProducerListener<String, byte[]> listener = new IngestMetrics(beans.getBeanProvider(
                io.micrometer.core.instrument.MeterRegistry.class)).listener();
        InboundEnvelope envelope = InboundEnvelope.ofText("vk:community-1:event:1", Channel.VK, "community-1", Map.of(),
                Instant.now(), "vk:community-1:peer:1", "application/json", "{\"account\":\"not-this-one\"}");
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.inbound(Channel.VK), envelope.affinityKey(),
                ContractJson.toBytes(envelope));
        listener.onSuccess(record, null);
        listener.onSuccess(record, null);
        listener.onError(record, null, new RecordTooLargeException("too large"));
        listener.onSuccess(new ProducerRecord<>(Topics.DELIVERY_REPORTS, "c", new byte[]{'{', '}'}), null);

        assertThat(meters.get("switchboard.ingest.published").tags("channel", "vk", "account", "community-1").counter().count())
                .isEqualTo(2.0);
        assertThat(meters.get("switchboard.ingest.failures").tags("channel", "vk", "account", "community-1",
                "reason", "RecordTooLargeException").counter().count()).isEqualTo(1.0);
        assertThat(meters.find("switchboard.ingest.published").counters()).hasSize(1);
    }

    @Test
    void theAccountIsReadFromTheEnvelopeOnly_andAnythingElseIsUnknown() {
        assertThat(IngestMetrics.accountOf("{\"eventId\":\"x\",\"externalIds\":{\"account\":\"no\"},\"account\":\"yes\"}"
                .getBytes())).isEqualTo("yes");
        assertThat(IngestMetrics.accountOf("not json".getBytes())).isEqualTo("unknown");
        assertThat(IngestMetrics.accountOf(null)).isEqualTo("unknown");
        assertThat(IngestMetrics.channelOf("inbox.inbound.telegram.v1")).isEqualTo("telegram");
        assertThat(IngestMetrics.channelOf("inbox.inbound.nosuch.v1")).isNull();
        assertThat(IngestMetrics.channelOf("inbox.outbound.telegram.v1")).isNull();
    }

    @Test
    void anOutboundCommandsConversationAndChannelAreInTheMdcWhileItIsHandled() {
        OutboundRecordMdc<String, byte[]> mdc = new OutboundRecordMdc<>();
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(Topics.outbound(Channel.TELEGRAM), 0, 0, "conv-42", new byte[0]);
        mdc.intercept(record, null);
        assertThat(MDC.get("conversation")).isEqualTo("conv-42");
        assertThat(MDC.get("channel")).isEqualTo("telegram");
        mdc.afterRecord(record, null);
        assertThat(MDC.get("conversation")).isNull();
        assertThat(MDC.get("channel")).isNull();
    }
}
