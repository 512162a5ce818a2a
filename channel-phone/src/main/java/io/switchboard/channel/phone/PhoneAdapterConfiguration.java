package io.switchboard.channel.phone;

import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.core.KafkaAdmin;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(PhoneProperties.class)
@PropertySource("classpath:switchboard-phone.properties")
class PhoneAdapterConfiguration {

    /** The adapter runs without the router too, so it declares the topic it writes. Calls are never sent out. */
    @Bean
    KafkaAdmin.NewTopics phoneTopics(SharedTopics topics) {
        return topics.declare(Topics.inbound(Channel.PHONE));
    }
}
