package io.switchboard.channel.social.facebook;

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
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.web.client.RestClient;


@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(FacebookProperties.class)
@PropertySource("classpath:switchboard-facebook.properties")
class FacebookAdapterConfiguration {

    @Bean
    FacebookClient facebookClient() {
        return new FacebookClient(RestClient.builder());
    }

    /** The adapter runs without the router too, so it declares the topics it writes and reads. */
    @Bean
    KafkaAdmin.NewTopics facebookTopics(SharedTopics topics) {
        return topics.declare(Topics.inbound(Channel.FACEBOOK), Topics.outbound(Channel.FACEBOOK), Topics.DELIVERY_REPORTS);
    }

    /** One command at a time, offset committed after each report is durable, so a crash resends at most one reply. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> facebookListenerFactory(KafkaProperties kafka) {
        return AdapterListeners.outboundCommands(kafka);
    }
}
