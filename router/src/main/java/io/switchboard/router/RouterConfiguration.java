package io.switchboard.router;

import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import io.switchboard.router.normalize.NormalizerRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.listener.RetryListener;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The router's Kafka wiring: topics it owns, and batch listeners that commit offsets only after the store. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(RouterProperties.class)
@PropertySource("classpath:switchboard-router.properties")
public class RouterConfiguration {

    private static final Logger log = LoggerFactory.getLogger(RouterConfiguration.class);

    /** Type and message of the innermost cause: store and broker errors, never record contents. */
    static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.toString();
    }

    @Bean
    NormalizerRegistry normalizerRegistry() {
        return NormalizerRegistry.fromServiceLoader();
    }

    /**
     * The router reads every inbound topic, so it makes sure they exist (an adapter may not have
     * started yet); adapters declare the same topics through the same {@link SharedTopics}, so partitions
     * ({@code switchboard.topics.partitions}) and configs do not depend on who starts first.
     */
    @Bean
    KafkaAdmin.NewTopics routerTopics(SharedTopics shared) {
        List<String> topics = new ArrayList<>();
        for (Channel c : Channel.values()) {
            topics.add(Topics.inbound(c));
            topics.add(Topics.outbound(c));
        }
        topics.addAll(List.of(Topics.DELIVERY_REPORTS, Topics.CONVERSATION_EVENTS, Topics.SLA_EVENTS,
                Topics.ROUTER_DEAD_LETTER, Topics.CONTROL_REPLAY));
        return shared.declare(topics.toArray(String[]::new));
    }

    /**
     * Batch listeners, offsets committed by the container after the listener returned, i.e. after
     * the batch's writes were made durable. A listener that throws (the store is unreachable)
     * has its batch redelivered with back-off, forever: skipping would lose messages.
     */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> routerListenerFactory(KafkaProperties kafka, RouterProperties props) {
        Map<String, Object> config = kafka.buildConsumerProperties();
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        ConcurrentKafkaListenerContainerFactory<String, byte[]> factory = new ConcurrentKafkaListenerContainerFactory<>();
        // consumer lag and fetch metrics (kafka_consumer_fetch_manager_records_lag_max) come from adapter-support's
        // ConsumerMetrics, which instruments every listener container factory of the process
        factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(config));
        factory.setBatchListener(true);
        factory.setConcurrency(props.concurrency());
        factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.BATCH);
        // Micrometer observations of the listeners (trace context where a tracer propagates it). Kafka has no
        // observation of a batch, only a plain timer named spring.kafka.listener with keys of its own, which
        // in one registry with the adapters' record observations (standalone) made Prometheus refuse one of the
        // two; the router times each record instead (RecordTracing, switchboard.router.record).
        factory.getContainerProperties().setObservationEnabled(true);
        factory.getContainerProperties().setMicrometerEnabled(false);
        ExponentialBackOff backOff = new ExponentialBackOff(200, 2.0);
        backOff.setMaxInterval(10_000);
        DefaultErrorHandler errors = new DefaultErrorHandler(backOff);
        errors.setRetryListeners(new RetryListener() {
            @Override
            public void failedDelivery(ConsumerRecord<?, ?> record, Exception ex, int attempt) {
                log.warn("attempt {} at {}-{}@{} failed, will retry: {}", attempt, record.topic(), record.partition(),
                        record.offset(), rootCause(ex));
            }

            @Override
            public void failedDelivery(ConsumerRecords<?, ?> records, Exception ex, int attempt) {
                log.warn("attempt {} of a batch of {} failed, will retry: {}", attempt, records.count(), rootCause(ex));
            }
        });
        factory.setCommonErrorHandler(errors);
        return factory;
    }
}
