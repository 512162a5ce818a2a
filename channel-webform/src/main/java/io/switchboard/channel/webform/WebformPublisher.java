package io.switchboard.channel.webform;

import io.switchboard.adapter.support.IngestMetrics;
import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Publishes submissions durably. Attachments travel inline, so this producer takes records up to
 * {@link #MAX_RECORD_BYTES} (the shared one stays at Kafka's 1 MB default); it is built here
 * rather than as a KafkaTemplate bean so the other adapters keep Boot's template.
 */
@Component
class WebformPublisher implements DisposableBean {

    /** Records up to 16 MiB (the inbound topics' limit): 10 MiB of files are ~13.4 MiB in base64, plus the fields. */
    static final int MAX_RECORD_BYTES = SharedTopics.LARGE_RECORD_BYTES;

    private final DefaultKafkaProducerFactory<String, byte[]> factory;
    private final KafkaTemplate<String, byte[]> template;

    WebformPublisher(KafkaProperties kafka, org.springframework.beans.factory.ObjectProvider<io.micrometer.observation.ObservationRegistry> observations,
                     org.springframework.beans.factory.ObjectProvider<IngestMetrics> ingest) {
        Map<String, Object> config = kafka.buildProducerProperties();
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_RECORD_BYTES);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        this.factory = new DefaultKafkaProducerFactory<>(config);
        this.template = new KafkaTemplate<>(factory);
        // not a bean, so set here what Boot does for its template: observed sends write the traceparent header
        this.template.setObservationEnabled(true);
        this.template.setObservationRegistry(observations.getIfAvailable(() -> io.micrometer.observation.ObservationRegistry.NOOP));
        // the ingest counters (switchboard_ingest_*) every adapter's publishing feeds
        ingest.ifAvailable(metrics -> this.template.setProducerListener(metrics.listener()));
    }

    /** Returns once the broker has the envelope; throws otherwise. */
    void publish(InboundEnvelope envelope) throws Exception {
        template.send(Topics.inbound(Channel.WEBFORM), envelope.affinityKey(), ContractJson.toBytes(envelope)).get(15, TimeUnit.SECONDS);
    }

    @Override
    public void destroy() {
        factory.destroy();
    }
}
