package io.switchboard.router.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Parks records the router cannot use on the dead-letter topic, unchanged, with the reason and
 * origin in headers, so the consumer moves on and an operator can fix and replay them.
 */
@Component
public class DeadLetters {

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

    private final KafkaTemplate<String, byte[]> kafka;
    private final MeterRegistry meters;

    public DeadLetters(KafkaTemplate<String, byte[]> kafka, MeterRegistry meters) {
        this.kafka = kafka;
        this.meters = meters;
    }

    public CompletableFuture<?> park(ConsumerRecord<String, byte[]> record, String reason) {
        String safeReason = reason == null ? "unknown" : reason.length() > 500 ? reason.substring(0, 500) : reason;
        ProducerRecord<String, byte[]> dead = new ProducerRecord<>(Topics.ROUTER_DEAD_LETTER, record.key(), record.value());
        dead.headers().add(new RecordHeader(Topics.HEADER_DLT_REASON, safeReason.getBytes(StandardCharsets.UTF_8)));
        dead.headers().add(new RecordHeader(Topics.HEADER_DLT_ORIGINAL_TOPIC, record.topic().getBytes(StandardCharsets.UTF_8)));
        dead.headers().add(new RecordHeader(Topics.HEADER_DLT_ORIGINAL_PARTITION,
                Integer.toString(record.partition()).getBytes(StandardCharsets.UTF_8)));
        dead.headers().add(new RecordHeader(Topics.HEADER_DLT_ORIGINAL_OFFSET,
                Long.toString(record.offset()).getBytes(StandardCharsets.UTF_8)));
        meters.counter("switchboard.router.deadletters", "topic", record.topic()).increment();
        // The reason may quote the payload, so only the position goes to the log.
        log.warn("dead-lettered {}-{}@{}: see header {} on {}", record.topic(), record.partition(), record.offset(),
                Topics.HEADER_DLT_REASON, Topics.ROUTER_DEAD_LETTER);
        return kafka.send(dead);
    }
}
