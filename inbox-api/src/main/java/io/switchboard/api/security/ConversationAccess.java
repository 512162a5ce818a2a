package io.switchboard.api.security;

import io.switchboard.api.ApiException;
import io.switchboard.store.InboxStore;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

import java.util.Map;

/**
 * Every endpoint under /api/conversations/{id} answers 404 for a conversation the caller may not
 * see ({@link Visibility}), as if it did not exist: reading, changing, replying, notes, presence,
 * merging. One check in front of all of them, so a new endpoint there cannot forget it.
 */
@Configuration(proxyBeanMethods = false)
class ConversationAccess implements WebMvcConfigurer, HandlerInterceptor {

    private final Visibility visibility;
    private final InboxStore store;

    ConversationAccess(Visibility visibility, InboxStore store) {
        this.visibility = visibility;
        this.store = store;
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(this).addPathPatterns("/api/conversations/*", "/api/conversations/*/**");
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        Object vars = request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
        if (!(vars instanceof Map<?, ?> map) || !(map.get("id") instanceof String id)) {
            return true;
        }
        Authentication user = SecurityContextHolder.getContext().getAuthentication();
        if (visibility.limit(user).isEmpty()) {
            return true;
        }
        store.find(id).ifPresent(c -> {
            if (!visibility.canSee(user, c)) {
                throw ApiException.notFound("no conversation " + id);
            }
        });
        return true;
    }
}
