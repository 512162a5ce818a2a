package io.switchboard.adapter.support;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;

import java.util.Map;

/**
 * The listener container factories every adapter builds: records one at a time, each offset committed
 * only after the listener returned (so a crash repeats at most the record under way), raw bytes (the
 * contract's JSON is decoded by the listener, never by a type header), and a listener observation that
 * continues the trace of the record's {@code traceparent} (Boot's property does not reach own factories).
 */
public final class AdapterListeners {

    private AdapterListeners() {
    }

    /**
     * A factory of record-at-a-time consumers of raw bytes from the earliest offset of a new group,
     * without an error handler (the caller sets the retry policy that fits its work).
     *
     * @param overrides consumer settings of this listener (e.g. {@code max.poll.records})
     */
    public static ConcurrentKafkaListenerContainerFactory<String, byte[]> recordFactory(KafkaProperties kafka,
                                                                                       Map<String, Object> overrides) {
        Map<String, Object> config = kafka.buildConsumerProperties();
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // a send may wait on a channel's rate limit or retry_after for minutes
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
        config.putAll(overrides);
        ConcurrentKafkaListenerContainerFactory<String, byte[]> factory = new ConcurrentKafkaListenerContainerFactory<>();
        factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(config));
        factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.RECORD);
        factory.getContainerProperties().setObservationEnabled(true);
        return factory;
    }

    /**
     * The sender's consumer of a channel's outbound commands: one command at a time, the offset committed
     * after its delivery report is durable, so a crash resends at most one reply; the conversation and
     * channel in the MDC of its log lines; a failing send retried with back-off from 0.5 s up to 30 s.
     */
    public static ConcurrentKafkaListenerContainerFactory<String, byte[]> outboundCommands(KafkaProperties kafka) {
        ConcurrentKafkaListenerContainerFactory<String, byte[]> factory = recordFactory(kafka, Map.of());
        factory.setRecordInterceptor(new OutboundRecordMdc<>());
        ExponentialBackOff backOff = new ExponentialBackOff(500, 2.0);
        backOff.setMaxInterval(30_000);
        factory.setCommonErrorHandler(new DefaultErrorHandler(backOff));
        return factory;
    }
}
