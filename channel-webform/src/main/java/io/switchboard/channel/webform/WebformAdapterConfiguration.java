package io.switchboard.channel.webform;

import io.switchboard.adapter.support.OutboundRecordMdc;
import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
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

import java.util.Map;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(WebformProperties.class)
@PropertySource("classpath:switchboard-webform.properties")
class WebformAdapterConfiguration {

    /**
     * The adapter runs without the router too, so it declares its topic; a submission carries its
     * attachments inline, so the topic takes records up to {@link WebformPublisher#MAX_RECORD_BYTES}.
     */
    @Bean
    KafkaAdmin.NewTopics webformTopics(SharedTopics topics) {
        return topics.declare(Topics.inbound(Channel.WEBFORM), Topics.outbound(Channel.WEBFORM), Topics.outbound(Channel.EMAIL));
    }

    /** One reply at a time, offset committed after it is handed to the email channel. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> webformListenerFactory(KafkaProperties kafka) {
        Map<String, Object> config = kafka.buildConsumerProperties();
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        ConcurrentKafkaListenerContainerFactory<String, byte[]> factory = new ConcurrentKafkaListenerContainerFactory<>();
        factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(config));
        factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.RECORD);
        // listener observation: continues the trace of the command's traceparent header (Boot's property does not reach own factories)
        factory.getContainerProperties().setObservationEnabled(true);
        factory.setRecordInterceptor(new OutboundRecordMdc<>());
        ExponentialBackOff backOff = new ExponentialBackOff(500, 2.0);
        backOff.setMaxInterval(30_000);
        factory.setCommonErrorHandler(new DefaultErrorHandler(backOff));
        return factory;
    }
}
