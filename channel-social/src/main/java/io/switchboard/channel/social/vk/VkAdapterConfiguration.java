package io.switchboard.channel.social.vk;

import io.switchboard.adapter.support.AdapterListeners;
import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.web.client.RestClient;


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
        return AdapterListeners.outboundCommands(kafka);
    }
}
