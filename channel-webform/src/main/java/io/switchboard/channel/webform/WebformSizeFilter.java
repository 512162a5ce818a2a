package io.switchboard.channel.webform;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Refuses a form post that announces more bytes than the form accepts (files plus 1 MiB for the
 * fields) with 413 and the form, before anything is read. Only on /contact, so other modules'
 * multipart endpoints are untouched.
 */
@Configuration(proxyBeanMethods = false)
class WebformSizeFilter {

    /** From the query string only: reading a parameter would start parsing the multipart body. */
    static boolean embedded(HttpServletRequest request) {
        String q = request.getQueryString();
        return q != null && ("&" + q + "&").contains("&embed=1&");
    }

    @Bean
    FilterRegistrationBean<OncePerRequestFilter> webformSizeFilterRegistration(WebformProperties properties) {
        long limit = properties.maxTotalBytes() + (1 << 20);
        OncePerRequestFilter filter = new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                    throws ServletException, IOException {
                if ("POST".equals(request.getMethod()) && request.getContentLengthLong() > limit) {
                    response.setStatus(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE);
                    response.setContentType("text/html;charset=UTF-8");
                    response.setHeader("Connection", "close");
                    byte[] page = WebformPages.form(new ContactSubmission("", "", "", "", "", "", "", List.of()), Map.of(),
                            embedded(request), properties,
                            "Слишком большой запрос: файлы вместе до " + (properties.maxTotalBytes() >> 20)
                                    + " МБ / Request too large: files up to " + (properties.maxTotalBytes() >> 20) + " MB in total")
                            .getBytes(StandardCharsets.UTF_8);
                    response.getOutputStream().write(page);
                    return;
                }
                chain.doFilter(request, response);
            }
        };
        FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(filter);
        registration.setUrlPatterns(List.of("/contact"));
        registration.setName("webformSizeFilter");
        return registration;
    }
}
