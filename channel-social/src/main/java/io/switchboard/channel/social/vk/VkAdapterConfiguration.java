package io.switchboard.channel.social.vk;

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
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;
import org.springframework.web.client.RestClient;

import java.util.Map;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(VkProperties.class)
@PropertySource("classpath:switchboard-vk.properties")
class VkAdapterConfiguration {

    @Bean
    VkClient vkClient() {
        return new VkClient(RestClient.builder());
    }

    /** The adapter runs without the router too, so it declares the topics it writes and reads. */
    @Bean
    KafkaAdmin.NewTopics vkTopics(SharedTopics topics) {
        return new KafkaAdmin.NewTopics(topics.topic(Topics.inbound(Channel.VK)), topics.topic(Topics.outbound(Channel.VK)),
                topics.topic(Topics.DELIVERY_REPORTS),
                // Bots Long Poll cursors (ts) by account, compacted: only the newest per key matters.
                TopicBuilder.name(VkPoller.STATE_TOPIC).partitions(1).compact().build());
    }

    /** One command at a time, offset committed after each report is durable, so a crash resends at most one reply. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> vkListenerFactory(KafkaProperties kafka) {
        Map<String, Object> config = kafka.buildConsumerProperties();
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
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
